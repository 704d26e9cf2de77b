//! Personal access token use cases — mint (owners and admins only, alias scopes expanded at
//! grant time, at most [`MAX_ACTIVE_PATS`] active per organization), list, revoke — and the
//! one bearer authentication of `/v1` for both token kinds ([`TokenService::authenticate`]):
//! personal access tokens (`42min_pat_…`) and OAuth access tokens (`42min_at_…`) are refused
//! for the same reasons (invalid / revoked / expired / user gone) and carry the user's current
//! role, so a service linking `domain` authenticates both the same way.
//!
//! Token formats and secret hashing live outside the domain, behind the [`TokenSecrets`] and
//! [`OAuthSecrets`] ports (`auth` implements both with peppered HMACs compared in constant
//! time).

use crate::access::{self, Credential, Principal, ScopeSet};
use crate::event_type_service::{from_store_error, stored_now};
use crate::ids::{OrganizationId, TokenId, UserId};
use crate::oauth::{OAuthSecrets, OAuthStore, SecretKind, TokenKind};
use crate::organization::Role;
use crate::ports::{
    CachedPatAuth, Clock, CreatePatError, DirectoryStore, IdGen, MAX_ACTIVE_PATS, PatCache,
    PersonalAccessToken, StoreError, TokenStore,
};
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use std::sync::Arc;

/// A token's text, shown once; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenText(String);

impl TokenText {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenText(…)")
    }
}

/// A freshly minted secret: the text to show once, and what is stored.
#[derive(Debug, Clone)]
pub struct MintedSecret {
    pub token: TokenText,
    /// The public lookup id.
    pub lookup: String,
    pub secret_hash: Vec<u8>,
    /// Last four characters of the token, for display.
    pub last_four: String,
}

/// A well-formed presented token: its public lookup id and its text.
#[derive(Clone)]
pub struct PresentedToken {
    pub lookup: String,
    pub token: TokenText,
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedToken")
            .field("lookup", &self.lookup)
            .finish_non_exhaustive()
    }
}

/// Token formats and secret hashes, owned by an adapter.
pub trait TokenSecrets: Send + Sync {
    /// A new token and its stored hash.
    fn mint(&self) -> anyhow::Result<MintedSecret>;
    /// Splits a presented token; `None` unless it has the exact personal access token format.
    fn parse(&self, token: &str) -> Option<PresentedToken>;
    /// Constant-time check of the presented secret against a stored hash.
    fn verify(&self, presented: &PresentedToken, stored_hash: &[u8]) -> bool;
}

/// Input of [`TokenService::mint`].
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user: UserId,
    pub name: String,
    /// Scope names (aliases allowed).
    pub scopes: Vec<String>,
    /// `None` = never expires.
    pub lifetime: Option<SignedDuration>,
}

/// Longest token name.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintTokenError {
    #[error("user not found")]
    UserNotFound,
    #[error(
        "the user has the role '{role}'; only owners and admins may own personal access tokens"
    )]
    MayNotOwnTokens { role: &'static str },
    #[error("the name must be 1-{MAX_TOKEN_NAME_CHARS} characters")]
    InvalidName,
    #[error("at least one scope is required")]
    NoScopes,
    #[error(transparent)]
    UnknownScope(#[from] access::UnknownScope),
    #[error("the account already has {MAX_ACTIVE_PATS} active tokens; revoke one first")]
    TooManyActive,
    #[error("a token with this name already exists")]
    NameTaken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeTokenError {
    #[error("token not found or already revoked")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a presented token does not authenticate.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Malformed, unknown lookup id or wrong secret — indistinguishable on purpose.
    #[error("the access token is missing, malformed or unknown")]
    Invalid,
    /// The token was revoked; for an OAuth token also its grant family or its client.
    #[error("the access token has been revoked")]
    Revoked,
    #[error("the access token has expired")]
    Expired,
    /// The token's user is no longer a user of the organization (removed).
    #[error("the token's user no longer exists")]
    UserGone,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

from_store_error!(MintTokenError, RevokeTokenError, AuthenticateError);

impl From<CreatePatError> for MintTokenError {
    fn from(e: CreatePatError) -> Self {
        match e {
            CreatePatError::TooManyActive => Self::TooManyActive,
            CreatePatError::NameTaken => Self::NameTaken,
            CreatePatError::Unknown(e) => Self::Unknown(e),
        }
    }
}

/// Whether a token still works at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    /// The status of `pat` at `now`: revoked first, then expired (`expires_at <= now`).
    pub fn of(pat: &PersonalAccessToken, now: Timestamp) -> Self {
        if pat.revoked_at.is_some() {
            Self::Revoked
        } else if pat.expires_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// The token use cases.
#[derive(Clone)]
pub struct TokenService {
    directory: Arc<dyn DirectoryStore>,
    tokens: Arc<dyn TokenStore>,
    secrets: Arc<dyn TokenSecrets>,
    oauth: Arc<dyn OAuthStore>,
    oauth_secrets: Arc<dyn OAuthSecrets>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
}

/// What a valid, unrevoked, unexpired token grants, before its user is checked.
struct Grant {
    organization_id: OrganizationId,
    user_id: UserId,
    credential: Credential,
    scopes: ScopeSet,
}

impl Grant {
    fn into_principal(self, role: Role) -> Principal {
        Principal {
            organization_id: self.organization_id,
            user_id: self.user_id,
            credential: self.credential,
            scopes: self.scopes,
            role,
        }
    }
}

/// Steps 3–4 for a personal access token whose secret matched.
fn pat_grant(pat: &PersonalAccessToken, now: Timestamp) -> Result<Grant, AuthenticateError> {
    match TokenStatus::of(pat, now) {
        TokenStatus::Revoked => Err(AuthenticateError::Revoked),
        TokenStatus::Expired => Err(AuthenticateError::Expired),
        TokenStatus::Active => Ok(Grant {
            organization_id: pat.organization_id,
            user_id: pat.user_id,
            credential: Credential::Pat { token_id: pat.id },
            scopes: pat.scopes.clone(),
        }),
    }
}

impl TokenService {
    /// `oauth` and `oauth_secrets` are the OAuth ports, for `42min_at_` access tokens.
    pub fn new(
        directory: Arc<dyn DirectoryStore>,
        tokens: Arc<dyn TokenStore>,
        secrets: Arc<dyn TokenSecrets>,
        oauth: Arc<dyn OAuthStore>,
        oauth_secrets: Arc<dyn OAuthSecrets>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Self {
        Self {
            directory,
            tokens,
            secrets,
            oauth,
            oauth_secrets,
            clock,
            ids,
        }
    }

    /// Mints a token for `new.user`. Returns the stored row and the text, to be shown once.
    pub async fn mint(
        &self,
        org: OrganizationId,
        new: NewToken,
    ) -> Result<(PersonalAccessToken, TokenText), MintTokenError> {
        let user = self
            .directory
            .get_user(org, new.user)
            .await?
            .ok_or(MintTokenError::UserNotFound)?;
        if !user.role.may_mint_tokens() {
            return Err(MintTokenError::MayNotOwnTokens {
                role: user.role.as_str(),
            });
        }
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
            return Err(MintTokenError::InvalidName);
        }
        if new.scopes.is_empty() {
            return Err(MintTokenError::NoScopes);
        }
        let scopes = access::expand(new.scopes.iter().map(String::as_str))?;
        let minted = self.secrets.mint()?;
        let now = stored_now(self.clock.as_ref());
        let expires_at = match new.lifetime {
            Some(d) => Some(now.checked_add(d).map_err(anyhow::Error::from)?),
            None => None,
        };
        let pat = PersonalAccessToken {
            id: TokenId(self.ids.new_id()),
            organization_id: org,
            user_id: user.id,
            name: name.to_owned(),
            lookup: minted.lookup,
            secret_hash: minted.secret_hash,
            scopes,
            last_four: minted.last_four,
            expires_at,
            revoked_at: None,
            created_at: now,
        };
        self.tokens.create_pat(&pat, now).await?;
        Ok((pat, minted.token))
    }

    /// Tokens of `org` (never their secrets), oldest first; optionally one user's.
    pub async fn list(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError> {
        self.tokens.list_pats(org, user).await
    }

    /// The status of `pat` now.
    pub fn status(&self, pat: &PersonalAccessToken) -> TokenStatus {
        TokenStatus::of(pat, self.clock.now())
    }

    /// Revokes token `id` of `org`.
    pub async fn revoke(&self, org: OrganizationId, id: TokenId) -> Result<(), RevokeTokenError> {
        if self
            .tokens
            .revoke_pat(org, id, stored_now(self.clock.as_ref()))
            .await?
        {
            Ok(())
        } else {
            Err(RevokeTokenError::NotFound)
        }
    }

    /// Authenticates a bearer token of either kind, in order:
    /// 1. the format names the kind: `42min_at_…` is an OAuth access token, anything else must
    ///    be a personal access token (`Invalid` otherwise);
    /// 2. lookup by the public id and a constant-time secret check (`Invalid`: an unknown
    ///    lookup id and a wrong secret are indistinguishable);
    /// 3. revoked (`Revoked`: a PAT's own revocation; an OAuth token's own, its grant family's
    ///    or its client's — the store folds the three into one `revoked_at`);
    /// 4. expired at the clock's now (`Expired`);
    /// 5. its user still a user of the organization (`UserGone`), read from the directory;
    ///    the principal carries that user's role.
    ///
    /// `cache` may spare a PAT's row read and user read together: a cached entry holds the row
    /// and the user's role as read when it authenticated, so a revocation, a removal or a role
    /// change written by another process is delayed by the cache's bound, the same for all
    /// three. The secret and the expiry are checked on every call. OAuth tokens are always
    /// read from the store, with their user.
    pub async fn authenticate(
        &self,
        token: &str,
        cache: &dyn PatCache,
    ) -> Result<Principal, AuthenticateError> {
        if let Some(decided) = self.authenticate_without_store(token, cache).await {
            return decided;
        }
        let now = self.clock.now();
        if let Some(lookup) = self.oauth_secrets.lookup(SecretKind::AccessToken, token) {
            let grant = self.oauth_access(&lookup, token, now).await?;
            let role = self.user_role(&grant).await?;
            return Ok(grant.into_principal(role));
        }
        let presented = self
            .secrets
            .parse(token)
            .ok_or(AuthenticateError::Invalid)?;
        // Not in the cache (or its cached hash does not match): read the row.
        let row = self
            .tokens
            .find_pat_by_lookup(&presented.lookup)
            .await?
            .ok_or(AuthenticateError::Invalid)?;
        if !self.secrets.verify(&presented, &row.secret_hash) {
            return Err(AuthenticateError::Invalid);
        }
        let grant = pat_grant(&row, now)?;
        let role = self.user_role(&grant).await?;
        cache.put(CachedPatAuth { pat: row, role }, now).await;
        Ok(grant.into_principal(role))
    }

    /// What [`TokenService::authenticate`] decides without reading the store, or `None` when
    /// it needs the store: a token of neither format is `Invalid`, a PAT whose cached row (see
    /// the `PatCache` port) verifies is that PAT's principal (or `Expired`). OAuth access
    /// tokens and PATs not in the cache need the store. The HTTP guard asks this first so that
    /// it can refuse an address over its anonymous limit before any database work.
    pub async fn authenticate_without_store(
        &self,
        token: &str,
        cache: &dyn PatCache,
    ) -> Option<Result<Principal, AuthenticateError>> {
        if self
            .oauth_secrets
            .lookup(SecretKind::AccessToken, token)
            .is_some()
        {
            return None;
        }
        let Some(presented) = self.secrets.parse(token) else {
            return Some(Err(AuthenticateError::Invalid));
        };
        let now = self.clock.now();
        let hit = cache.get(&presented.lookup, now).await?;
        if !self.secrets.verify(&presented, &hit.pat.secret_hash) {
            return None;
        }
        Some(pat_grant(&hit.pat, now).map(|grant| grant.into_principal(hit.role)))
    }

    /// Step 5: the grant's user's current role (`UserGone` when removed).
    async fn user_role(&self, grant: &Grant) -> Result<Role, AuthenticateError> {
        Ok(self
            .directory
            .get_user(grant.organization_id, grant.user_id)
            .await?
            .ok_or(AuthenticateError::UserGone)?
            .role)
    }

    /// Steps 2–4 for an OAuth access token (never cached: a revocation is seen at once).
    async fn oauth_access(
        &self,
        lookup: &str,
        text: &str,
        now: Timestamp,
    ) -> Result<Grant, AuthenticateError> {
        let token = self
            .oauth
            .find_token(lookup)
            .await?
            .ok_or(AuthenticateError::Invalid)?;
        if token.kind != TokenKind::Access
            || !self
                .oauth_secrets
                .verify(SecretKind::AccessToken, text, &token.secret_hash)
        {
            return Err(AuthenticateError::Invalid);
        }
        if token.revoked_at.is_some() {
            return Err(AuthenticateError::Revoked);
        }
        if token.expires_at <= now {
            return Err(AuthenticateError::Expired);
        }
        Ok(Grant {
            organization_id: token.organization_id,
            user_id: token.user_id,
            credential: Credential::OAuth {
                client_id: token.client_id,
            },
            scopes: token.scopes,
        })
    }
}
