//! OAuth 2.1 use cases (§5, §6.2): validate an authorization request, sign a user in, issue a
//! code on consent, exchange it for tokens, rotate refresh tokens with replay detection, revoke,
//! introspect, and manage clients. Bearer access tokens are authenticated on `/v1` by
//! [`crate::token_service::TokenService::authenticate`], with personal access tokens.
//!
//! Rules that live here and nowhere else:
//! - only `response_type=code`, PKCE `S256` only, exact redirect URI matching (loopback any-port
//!   for public clients), requested scopes ⊆ the client's allowed scopes, aliases expanded;
//! - codes are single use, live [`CODE_TTL`], and are bound to client, redirect URI and
//!   challenge; a second use revokes every token the code issued;
//! - access tokens live [`ACCESS_TOKEN_TTL`]; a refresh token ([`REFRESH_TOKEN_TTL`]) is issued
//!   only with `offline_access` and rotates on every use; presenting a rotated one revokes its
//!   whole family;
//! - confidential clients authenticate with their secret, public clients with `none`.
//!
//! This module never sees a token format or a hash function: [`OAuthSecrets`] does that.

use crate::access::{self, ScopeSet};
use crate::ids::UserId;
use crate::oauth::*;
use crate::organization::User;
use crate::ports::{Clock, DirectoryStore, IdGen, StoreError};
use jiff::Timestamp;
use std::sync::Arc;

mod clients;
pub use clients::{
    ClientRegistration, CreatedClient, NewClient, NewClientError, RegisteredClient,
    RegistrationError,
};

/// The OAuth use cases and the ports they need.
#[derive(Clone)]
pub struct OAuthService {
    pub store: Arc<dyn OAuthStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub secrets: Arc<dyn OAuthSecrets>,
    pub passwords: Arc<dyn PasswordCheck>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
}

/// The query of `GET /v1/oauth/authorize`, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why an authorization request was refused.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: show an error page, never redirect.
    Untrusted {
        description: String,
    },
    /// Tell the client through its redirect URI (RFC 6749 §4.1.2.1, RFC 9207).
    Redirect(RedirectError),
    Store(StoreError),
}

/// An error to deliver to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub error: &'static str,
    pub description: String,
    pub state: Option<String>,
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// A validated authorization request: what the consent page shows and approval binds.
#[derive(Debug, Clone)]
pub struct ValidAuthorization {
    pub client: OAuthClient,
    pub redirect_uri: String,
    pub redirect_uri_defaulted: bool,
    /// Expanded scopes to grant.
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: String,
}

impl ValidAuthorization {
    /// An error to redirect with after validation (consent denied, …).
    pub fn redirect_error(&self, error: &'static str, description: &str) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: self.state.clone(),
        }
    }
}

/// How the client authenticated at the token, revocation or introspection endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// `client_secret_basic`.
    Basic { client_id: String, secret: String },
    /// `client_secret_post`.
    Post { client_id: String, secret: String },
    /// `none`: a public client naming itself.
    None { client_id: String },
    /// Nothing identifies the client.
    Missing,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { client_id, .. } => write!(f, "Basic({client_id})"),
            Self::Post { client_id, .. } => write!(f, "Post({client_id})"),
            Self::None { client_id } => write!(f, "None({client_id})"),
            Self::Missing => f.write_str("Missing"),
        }
    }
}

impl ClientCredentials {
    fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }
}

/// RFC 6749 §5.2 error codes of the token, revocation and introspection endpoints.
#[derive(Debug)]
pub enum TokenError {
    InvalidRequest(String),
    /// 401; `basic` = the client used HTTP Basic (answer with `WWW-Authenticate: Basic`).
    InvalidClient {
        basic: bool,
        description: String,
    },
    InvalidGrant(String),
    UnauthorizedClient(String),
    UnsupportedGrantType(String),
    InvalidScope(String),
    Store(StoreError),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl TokenError {
    /// The RFC 6749 `error` value.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::Store(_) => "server_error",
        }
    }
}

/// The parameters of a token request, as received (RFC 6749 §4.1.3, §6).
#[derive(Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

/// Issued tokens (texts shown once).
#[derive(Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub scopes: ScopeSet,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// An active token as introspection reports it (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub scopes: ScopeSet,
    pub client_id: String,
    pub username: String,
    pub kind: TokenKind,
    pub expires_at: Timestamp,
    pub issued_at: Timestamp,
    pub subject: UserId,
}

fn unknown(e: anyhow::Error) -> StoreError {
    StoreError::Unknown(e)
}

/// Splits and expands a space-separated scope list.
pub fn parse_scope_list(s: &str) -> Result<ScopeSet, access::UnknownScope> {
    access::expand(s.split(' ').filter(|p| !p.is_empty()))
}

impl OAuthService {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    // ---- authorization endpoint ----

    /// Validates an authorization request: client and redirect URI first (failures are
    /// [`AuthorizeError::Untrusted`]), then everything else (failures redirect).
    pub async fn validate_authorization(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<ValidAuthorization, AuthorizeError> {
        let untrusted = |d: &str| AuthorizeError::Untrusted {
            description: d.to_owned(),
        };
        let client_id = req
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| untrusted("The request names no client (client_id is missing)."))?;
        let client = match self.store.get_client(client_id).await? {
            Some(c) if c.revoked_at.is_none() => c,
            _ => {
                return Err(untrusted(
                    "The application (client_id) is not registered here.",
                ));
            }
        };
        let (redirect_uri, defaulted) = match req.redirect_uri.as_deref() {
            Some(uri) => {
                if !client
                    .redirect_uris
                    .iter()
                    .any(|r| redirect_uri_matches(r, uri, client.kind))
                {
                    return Err(untrusted(
                        "The redirect_uri is not registered for this application.",
                    ));
                }
                (uri.to_owned(), false)
            }
            None => match client.redirect_uris.as_slice() {
                [only] => (only.clone(), true),
                _ => {
                    return Err(untrusted(
                        "The redirect_uri is missing and the application registered several.",
                    ));
                }
            },
        };
        let redirect = |error: &'static str, d: &str| {
            AuthorizeError::Redirect(RedirectError {
                redirect_uri: redirect_uri.clone(),
                error,
                description: d.to_owned(),
                state: req.state.clone(),
            })
        };
        match req.response_type.as_deref() {
            Some("code") => {}
            None => return Err(redirect("invalid_request", "response_type is required")),
            Some(_) => {
                return Err(redirect(
                    "unsupported_response_type",
                    "Only response_type=code is supported",
                ));
            }
        }
        let challenge = match (
            req.code_challenge.as_deref(),
            req.code_challenge_method.as_deref(),
        ) {
            (None, _) => {
                return Err(redirect(
                    "invalid_request",
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                ));
            }
            (Some(_), None) => {
                return Err(redirect(
                    "invalid_request",
                    "code_challenge_method=S256 is required",
                ));
            }
            (Some(_), Some(m)) if m != "S256" => {
                return Err(redirect(
                    "invalid_request",
                    "Only the S256 code_challenge_method is supported",
                ));
            }
            (Some(c), Some(_)) if !is_s256_challenge(c) => {
                return Err(redirect(
                    "invalid_request",
                    "code_challenge must be 43 base64url characters",
                ));
            }
            (Some(c), Some(_)) => c.to_owned(),
        };
        let Some(scope) = req.scope.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Err(redirect("invalid_scope", "The scope parameter is required"));
        };
        let scopes = parse_scope_list(scope)
            .map_err(|e| redirect("invalid_scope", &format!("Unknown scope '{}'", e.0)))?;
        if !client.allowed_scopes.is_superset(&scopes) {
            let extra: Vec<&str> = scopes
                .iter()
                .filter(|s| !client.allowed_scopes.contains(s))
                .collect();
            return Err(redirect(
                "invalid_scope",
                &format!("The application may not request: {}", extra.join(" ")),
            ));
        }
        Ok(ValidAuthorization {
            client,
            redirect_uri,
            redirect_uri_defaulted: defaulted,
            scopes,
            state: req.state.clone(),
            code_challenge: challenge,
        })
    }

    /// Email + password sign-in: the first user (of any organization) with this address whose
    /// password matches. `None` for a wrong address or password (callers show one message).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Option<User>, StoreError> {
        let email = email.trim();
        if email.is_empty() || password.is_empty() {
            return Ok(None);
        }
        for user in self.store.users_by_email(email).await? {
            if let Some(phc) = &user.password_hash
                && self.passwords.verify_password(password, phc).await
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// The signed-in user, by id (`None` once removed).
    pub async fn user(
        &self,
        org: crate::ids::OrganizationId,
        id: UserId,
    ) -> Result<Option<User>, StoreError> {
        self.directory.get_user(org, id).await
    }

    /// Consent given: issues a code for `user` (returns its text, to redirect with).
    pub async fn approve(
        &self,
        auth: &ValidAuthorization,
        user: &User,
    ) -> Result<String, StoreError> {
        let minted = self.secrets.mint(SecretKind::Code).map_err(unknown)?;
        let now = self.now();
        let code = AuthorizationCode {
            lookup: minted.lookup,
            secret_hash: minted.secret_hash,
            client_id: auth.client.client_id.clone(),
            organization_id: user.organization_id,
            user_id: user.id,
            redirect_uri: auth.redirect_uri.clone(),
            redirect_uri_defaulted: auth.redirect_uri_defaulted,
            code_challenge: auth.code_challenge.clone(),
            scopes: auth.scopes.clone(),
            family_id: self.ids.new_id(),
            created_at: now,
            expires_at: now + CODE_TTL,
            used_at: None,
        };
        self.store.create_code(&code).await?;
        Ok(minted.text)
    }

    // ---- client authentication ----

    /// Authenticates the client of a token, revocation or introspection request.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<OAuthClient, TokenError> {
        let basic = creds.used_basic();
        let fail = |d: &str| TokenError::InvalidClient {
            basic,
            description: d.to_owned(),
        };
        let (client_id, secret) = match creds {
            ClientCredentials::Basic { client_id, secret }
            | ClientCredentials::Post { client_id, secret } => (client_id, Some(secret)),
            ClientCredentials::None { client_id } => (client_id, None),
            ClientCredentials::Missing => {
                return Err(fail("Client authentication is required"));
            }
        };
        let client = match self.store.get_client(client_id).await? {
            Some(c) if c.revoked_at.is_none() => c,
            _ => return Err(fail("Unknown client or bad client credentials")),
        };
        match (client.kind, secret, &client.secret_hash) {
            (ClientKind::Confidential, Some(s), Some(hash))
                if self.secrets.verify(SecretKind::ClientSecret, s, hash) =>
            {
                Ok(client)
            }
            (ClientKind::Confidential, None, _) => {
                Err(fail("This client must authenticate with its client secret"))
            }
            (ClientKind::Public, None, _) => Ok(client),
            (ClientKind::Public, Some(_), _) => Err(fail(
                "This is a public client: send client_id without a secret",
            )),
            _ => Err(fail("Unknown client or bad client credentials")),
        }
    }

    // ---- token endpoint ----

    fn mint_tokens(
        &self,
        family_id: uuid::Uuid,
        client_id: &str,
        org: crate::ids::OrganizationId,
        user: UserId,
        scopes: &ScopeSet,
    ) -> Result<(IssuedTokens, Vec<OAuthToken>), StoreError> {
        let now = self.now();
        let access = self
            .secrets
            .mint(SecretKind::AccessToken)
            .map_err(unknown)?;
        let row = |m: &MintedOAuthSecret, kind: TokenKind| OAuthToken {
            lookup: m.lookup.clone(),
            kind,
            secret_hash: m.secret_hash.clone(),
            family_id,
            client_id: client_id.to_owned(),
            organization_id: org,
            user_id: user,
            scopes: scopes.clone(),
            created_at: now,
            expires_at: now
                + match kind {
                    TokenKind::Access => ACCESS_TOKEN_TTL,
                    TokenKind::Refresh => REFRESH_TOKEN_TTL,
                },
            revoked_at: None,
            rotated_at: None,
        };
        let mut rows = vec![row(&access, TokenKind::Access)];
        let refresh = if scopes.contains(OFFLINE_ACCESS) {
            let r = self
                .secrets
                .mint(SecretKind::RefreshToken)
                .map_err(unknown)?;
            rows.push(row(&r, TokenKind::Refresh));
            Some(r.text)
        } else {
            None
        };
        Ok((
            IssuedTokens {
                access_token: access.text,
                expires_in: ACCESS_TOKEN_TTL.as_secs(),
                scopes: scopes.clone(),
                refresh_token: refresh,
            },
            rows,
        ))
    }

    /// `invalid_grant` once the grant's user was removed from the organization: a grant acts
    /// for its user, and a removed user's grants issue nothing (their access tokens are
    /// refused by `TokenService::authenticate` for the same reason).
    async fn user_still_member(
        &self,
        org: crate::ids::OrganizationId,
        user: UserId,
    ) -> Result<(), TokenError> {
        match self.directory.get_user(org, user).await? {
            Some(_) => Ok(()),
            None => Err(TokenError::InvalidGrant(
                "The user of this grant is no longer a member of the organization".into(),
            )),
        }
    }

    /// `POST /v1/oauth/token`: dispatches on `grant_type` (RFC 6749 §4.1.3, §6).
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, TokenError> {
        match req.grant_type.as_deref() {
            None | Some("") => Err(TokenError::InvalidRequest("grant_type is required".into())),
            Some("authorization_code") => {
                self.exchange_code(
                    creds,
                    req.code.as_deref(),
                    req.redirect_uri.as_deref(),
                    req.code_verifier.as_deref(),
                )
                .await
            }
            Some("refresh_token") => {
                self.refresh(creds, req.refresh_token.as_deref(), req.scope.as_deref())
                    .await
            }
            Some(other) => Err(TokenError::UnsupportedGrantType(format!(
                "grant_type '{other}' is not supported; use authorization_code or refresh_token"
            ))),
        }
    }

    /// `grant_type=authorization_code`.
    pub async fn exchange_code(
        &self,
        creds: &ClientCredentials,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<IssuedTokens, TokenError> {
        let client = self.authenticate_client(creds).await?;
        let code_text = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| TokenError::InvalidRequest("code is required".into()))?;
        let verifier = verifier
            .filter(|v| !v.is_empty())
            .ok_or_else(|| TokenError::InvalidRequest("code_verifier is required (PKCE)".into()))?;
        let bad = || TokenError::InvalidGrant("The authorization code is invalid".into());
        let lookup = self
            .secrets
            .lookup(SecretKind::Code, code_text)
            .ok_or_else(bad)?;
        let code = self.store.find_code(&lookup).await?.ok_or_else(bad)?;
        if !self
            .secrets
            .verify(SecretKind::Code, code_text, &code.secret_hash)
        {
            return Err(bad());
        }
        if code.client_id != client.client_id {
            return Err(TokenError::InvalidGrant(
                "The authorization code was issued to another client".into(),
            ));
        }
        let now = self.now();
        match self.store.redeem_code(&lookup, now).await? {
            Some(Redemption::First) => {}
            Some(Redemption::Replayed) => {
                self.store.revoke_family(code.family_id, now).await?;
                return Err(TokenError::InvalidGrant(
                    "The authorization code was already used; the tokens it issued are revoked"
                        .into(),
                ));
            }
            None => return Err(bad()),
        }
        if code.expires_at <= now {
            return Err(TokenError::InvalidGrant(
                "The authorization code has expired".into(),
            ));
        }
        let redirect_ok = match redirect_uri {
            Some(uri) => uri == code.redirect_uri,
            None => code.redirect_uri_defaulted,
        };
        if !redirect_ok {
            return Err(TokenError::InvalidGrant(
                "redirect_uri does not match the authorization request".into(),
            ));
        }
        if !self
            .secrets
            .pkce_s256_matches(verifier, &code.code_challenge)
        {
            return Err(TokenError::InvalidGrant(
                "code_verifier does not match the code_challenge".into(),
            ));
        }
        self.user_still_member(code.organization_id, code.user_id)
            .await?;
        let (issued, rows) = self.mint_tokens(
            code.family_id,
            &client.client_id,
            code.organization_id,
            code.user_id,
            &code.scopes,
        )?;
        self.store.insert_tokens(&rows).await?;
        Ok(issued)
    }

    /// `grant_type=refresh_token`: rotates; a replayed refresh token revokes its family.
    pub async fn refresh(
        &self,
        creds: &ClientCredentials,
        refresh_token: Option<&str>,
        scope: Option<&str>,
    ) -> Result<IssuedTokens, TokenError> {
        let client = self.authenticate_client(creds).await?;
        let text = refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| TokenError::InvalidRequest("refresh_token is required".into()))?;
        let bad = || TokenError::InvalidGrant("The refresh token is invalid".into());
        let lookup = self
            .secrets
            .lookup(SecretKind::RefreshToken, text)
            .ok_or_else(bad)?;
        let token = self.store.find_token(&lookup).await?.ok_or_else(bad)?;
        if token.kind != TokenKind::Refresh
            || !self
                .secrets
                .verify(SecretKind::RefreshToken, text, &token.secret_hash)
        {
            return Err(bad());
        }
        if token.client_id != client.client_id {
            return Err(TokenError::InvalidGrant(
                "The refresh token was issued to another client".into(),
            ));
        }
        let now = self.now();
        if token.revoked_at.is_some() {
            return Err(TokenError::InvalidGrant(
                "The refresh token has been revoked".into(),
            ));
        }
        let replayed = || {
            TokenError::InvalidGrant(
                "The refresh token was already used; every token of this grant is revoked".into(),
            )
        };
        if token.rotated_at.is_some() {
            self.store.revoke_family(token.family_id, now).await?;
            return Err(replayed());
        }
        if token.expires_at <= now {
            return Err(TokenError::InvalidGrant(
                "The refresh token has expired".into(),
            ));
        }
        self.user_still_member(token.organization_id, token.user_id)
            .await?;
        let scopes = match scope.filter(|s| !s.trim().is_empty()) {
            None => token.scopes.clone(),
            Some(s) => {
                let asked = parse_scope_list(s)
                    .map_err(|e| TokenError::InvalidScope(format!("Unknown scope '{}'", e.0)))?;
                if !token.scopes.is_superset(&asked) {
                    return Err(TokenError::InvalidScope(
                        "A refresh may only narrow the granted scopes".into(),
                    ));
                }
                asked
            }
        };
        let (issued, rows) = self.mint_tokens(
            token.family_id,
            &client.client_id,
            token.organization_id,
            token.user_id,
            &scopes,
        )?;
        if !self.store.rotate_refresh(&lookup, now, &rows).await? {
            // Lost a race with another use of the same refresh token: that is a replay too.
            self.store.revoke_family(token.family_id, now).await?;
            return Err(replayed());
        }
        Ok(issued)
    }

    /// Finds and verifies a presented access or refresh token (any state).
    async fn presented(&self, text: &str) -> Result<Option<OAuthToken>, StoreError> {
        for kind in [SecretKind::AccessToken, SecretKind::RefreshToken] {
            if let Some(lookup) = self.secrets.lookup(kind, text) {
                let Some(t) = self.store.find_token(&lookup).await? else {
                    return Ok(None);
                };
                let want = match kind {
                    SecretKind::AccessToken => TokenKind::Access,
                    _ => TokenKind::Refresh,
                };
                if t.kind == want && self.secrets.verify(kind, text, &t.secret_hash) {
                    return Ok(Some(t));
                }
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// RFC 7009: revokes an access token (itself) or a refresh token (its family). Unknown
    /// tokens and tokens of other clients are ignored (the answer is 200 either way).
    pub async fn revoke(
        &self,
        creds: &ClientCredentials,
        token: Option<&str>,
    ) -> Result<(), TokenError> {
        let client = self.authenticate_client(creds).await?;
        let text = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| TokenError::InvalidRequest("token is required".into()))?;
        let Some(t) = self.presented(text).await? else {
            return Ok(());
        };
        if t.client_id != client.client_id {
            return Ok(());
        }
        let now = self.now();
        match t.kind {
            TokenKind::Access => {
                self.store.revoke_token(&t.lookup, now).await?;
            }
            TokenKind::Refresh => self.store.revoke_family(t.family_id, now).await?,
        }
        Ok(())
    }

    /// RFC 7662: confidential clients only; `None` = inactive.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        token: Option<&str>,
    ) -> Result<Option<Introspection>, TokenError> {
        if matches!(
            creds,
            ClientCredentials::None { .. } | ClientCredentials::Missing
        ) {
            return Err(TokenError::InvalidClient {
                basic: false,
                description: "Introspection requires client authentication with a secret".into(),
            });
        }
        self.authenticate_client(creds).await?;
        let text = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| TokenError::InvalidRequest("token is required".into()))?;
        let Some(t) = self.presented(text).await? else {
            return Ok(None);
        };
        let now = self.now();
        if t.revoked_at.is_some() || t.expires_at <= now || t.rotated_at.is_some() {
            return Ok(None);
        }
        let Some(user) = self
            .directory
            .get_user(t.organization_id, t.user_id)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Introspection {
            scopes: t.scopes,
            client_id: t.client_id,
            username: user
                .username
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_else(|| user.email.as_str().to_owned()),
            kind: t.kind,
            expires_at: t.expires_at,
            issued_at: t.created_at,
            subject: t.user_id,
        }))
    }
}
