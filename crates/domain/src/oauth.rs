//! OAuth 2.1 model and ports: clients, authorization codes, grant families and the opaque
//! access and refresh tokens issued from them (§5, §6.2).
//!
//! A *family* is everything one authorization code issued: its access tokens and the chain of
//! refresh tokens that rotate out of each other. Revoking a family (code reuse, refresh-token
//! replay, RFC 7009 revocation of a refresh token) kills all of them at once. The rules live in
//! [`crate::oauth_service`]; token formats, hashes and the PKCE check live behind
//! [`OAuthSecrets`] (implemented by `auth`), storage behind [`OAuthStore`].
//!
//! Clients are deployment-wide (a third-party app serves users of many organizations); codes,
//! families and tokens carry the organization they act in. Lookups by client id and by a
//! token's public lookup id are, like PAT lookup, cross-tenant reads: the credential names its
//! own organization.

use crate::access::ScopeSet;
use crate::ids::{OrganizationId, UserId};
use crate::organization::User;
use crate::ports::{CreateError, StoreError};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use uuid::Uuid;

/// Life of an authorization code (§6.2).
pub const CODE_TTL: SignedDuration = SignedDuration::from_secs(10 * 60);
/// Life of an access token (§2.2: "past its hour").
pub const ACCESS_TOKEN_TTL: SignedDuration = SignedDuration::from_secs(3600);
/// Life of a refresh token (§6.2).
pub const REFRESH_TOKEN_TTL: SignedDuration = SignedDuration::from_secs(30 * 24 * 3600);
/// The scope that asks for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Holds a secret (a server-side app).
    Confidential,
    /// Cannot keep a secret (a native or browser app): authenticates with `none` + PKCE.
    Public,
}

impl ClientKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// A registered OAuth client.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The public `client_id`.
    pub client_id: String,
    pub name: String,
    pub kind: ClientKind,
    /// Peppered hash of the client secret (confidential clients only).
    pub secret_hash: Option<Vec<u8>>,
    /// Registered redirect URIs, matched exactly (loopback any-port for public clients).
    pub redirect_uris: Vec<String>,
    /// The scopes the client may ever be granted (expanded).
    pub allowed_scopes: ScopeSet,
    /// Registered through RFC 7591 rather than by an administrator.
    pub dynamic: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("redirect_uris", &self.redirect_uris)
            .field("allowed_scopes", &self.allowed_scopes)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// An authorization code: single use, [`CODE_TTL`], bound to client, redirect URI and PKCE
/// challenge. `family_id` names the family its tokens will belong to, so a second use can
/// revoke them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub lookup: String,
    pub secret_hash: Vec<u8>,
    pub client_id: String,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub redirect_uri: String,
    /// The redirect URI was omitted at /authorize (the client has exactly one).
    pub redirect_uri_defaulted: bool,
    /// The S256 challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: String,
    pub scopes: ScopeSet,
    pub family_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Access or refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access" => Some(Self::Access),
            "refresh" => Some(Self::Refresh),
            _ => None,
        }
    }
}

/// An issued token (only the peppered hash of its secret is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    pub lookup: String,
    pub kind: TokenKind,
    pub secret_hash: Vec<u8>,
    pub family_id: Uuid,
    pub client_id: String,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The earliest of the token's, its family's and its client's revocation (stores compute
    /// it when reading).
    pub revoked_at: Option<Timestamp>,
    /// When a refresh token was exchanged for its successor (a second use is a replay).
    pub rotated_at: Option<Timestamp>,
}

/// The outcome of [`OAuthStore::redeem_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// This call used the code first.
    First,
    /// The code had been used before.
    Replayed,
}

/// Storage of clients, codes, families and tokens.
#[async_trait]
pub trait OAuthStore: Send + Sync {
    /// `client_id` is unique; a clash → `Duplicate { field: "client_id" }`.
    async fn create_client(&self, client: &OAuthClient) -> Result<(), CreateError>;
    /// Revoked clients are returned too (with `revoked_at`).
    async fn get_client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError>;
    /// Oldest first.
    async fn list_clients(&self) -> Result<Vec<OAuthClient>, StoreError>;
    /// Replaces the secret hash of an unrevoked client; false when there is none.
    async fn set_client_secret(&self, client_id: &str, hash: &[u8]) -> Result<bool, StoreError>;
    /// Marks the client revoked, which also revokes every token issued to it (they read as
    /// revoked from now on); false when no unrevoked client `client_id` exists.
    async fn revoke_client(&self, client_id: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Sign-in: the users of every organization with this e-mail address
    /// (case-insensitively). A cross-tenant read; the sign-in form names no organization.
    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError>;
    /// Stores a code and creates its (empty, unrevoked) family in one transaction.
    async fn create_code(&self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// By public lookup id (used or not).
    async fn find_code(&self, lookup: &str) -> Result<Option<AuthorizationCode>, StoreError>;
    /// Marks the code used at `now` atomically: exactly one concurrent caller gets `First`.
    /// `None` when no such code exists.
    async fn redeem_code(
        &self,
        lookup: &str,
        now: Timestamp,
    ) -> Result<Option<Redemption>, StoreError>;
    /// Inserts tokens of one existing family, all or nothing.
    async fn insert_tokens(&self, tokens: &[OAuthToken]) -> Result<(), StoreError>;
    /// By public lookup id; `revoked_at` folds in the family's and the client's revocation.
    async fn find_token(&self, lookup: &str) -> Result<Option<OAuthToken>, StoreError>;
    /// Marks the refresh token `lookup` rotated at `now` and inserts its successors, in one
    /// transaction — only if it was neither rotated nor revoked before (false otherwise:
    /// exactly one concurrent caller wins, nothing is inserted for the others).
    async fn rotate_refresh(
        &self,
        lookup: &str,
        now: Timestamp,
        successors: &[OAuthToken],
    ) -> Result<bool, StoreError>;
    /// Revokes a family: every token in it, now and any inserted later, reads as revoked.
    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<(), StoreError>;
    /// Revokes one token; false when it does not exist or was revoked already.
    async fn revoke_token(&self, lookup: &str, now: Timestamp) -> Result<bool, StoreError>;
}

/// What an OAuth secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `42min_at_…`
    AccessToken,
    /// `42min_rt_…`
    RefreshToken,
    /// An authorization code.
    Code,
    /// A client secret.
    ClientSecret,
}

/// A freshly minted secret: the text (shown once, never logged) and what is stored.
#[derive(Clone)]
pub struct MintedOAuthSecret {
    pub text: String,
    pub lookup: String,
    pub secret_hash: Vec<u8>,
}

impl fmt::Debug for MintedOAuthSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedOAuthSecret")
            .field("lookup", &self.lookup)
            .finish_non_exhaustive()
    }
}

/// Token formats, peppered hashes and the PKCE check (an adapter: `auth`).
pub trait OAuthSecrets: Send + Sync {
    fn mint(&self, kind: SecretKind) -> anyhow::Result<MintedOAuthSecret>;
    /// The public lookup id of a well-formed secret of `kind`; `None` for anything else.
    fn lookup(&self, kind: SecretKind, text: &str) -> Option<String>;
    /// Constant-time check of the presented secret against the stored hash.
    fn verify(&self, kind: SecretKind, text: &str, stored_hash: &[u8]) -> bool;
    /// RFC 7636 S256: `BASE64URL(SHA256(verifier)) == challenge`, compared in constant time;
    /// false for a verifier outside 43–128 unreserved characters.
    fn pkce_s256_matches(&self, verifier: &str, challenge: &str) -> bool;
}

/// Password verification (argon2id is slow by design: an adapter runs it off the async
/// workers).
#[async_trait]
pub trait PasswordCheck: Send + Sync {
    /// True when `password` matches the PHC string.
    async fn verify_password(&self, password: &str, phc: &str) -> bool;
}

/// True when `s` is a well-formed S256 challenge: 43 base64url characters (a SHA-256).
pub fn is_s256_challenge(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The parts of a loopback redirect URI (`http://127.0.0.1:port/path` or `http://[::1]…`):
/// host and everything after the port.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix("[::1]") {
        ("[::1]", v6)
    } else if let Some(v4) = authority.strip_prefix("127.0.0.1") {
        ("127.0.0.1", v4)
    } else {
        return None;
    };
    match port.strip_prefix(':') {
        None if port.is_empty() => {}
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {}
        _ => return None,
    }
    Some((host, tail))
}

/// Does `presented` match the registered `registered`? Exact string comparison; for public
/// (native) clients a registered loopback IP URI also matches the same URI on any port
/// (RFC 8252 §7.3). Fragments never match (RFC 6749 §3.1.2).
pub fn redirect_uri_matches(registered: &str, presented: &str, kind: ClientKind) -> bool {
    if presented.contains('#') {
        return false;
    }
    if registered == presented {
        return true;
    }
    if kind != ClientKind::Public {
        return false;
    }
    match (loopback_parts(registered), loopback_parts(presented)) {
        (Some(r), Some(p)) => r == p,
        _ => false,
    }
}

/// Is `uri` acceptable to register? Absolute, no fragment, and plain `http` only for a loopback
/// IP; any other scheme must be `https` or a private-use scheme containing a dot (RFC 8252 §7.1).
pub fn valid_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.is_empty() || uri.len() > 2000 {
        return Err("must be 1 to 2000 characters");
    }
    if uri.contains('#') {
        return Err("must not contain a fragment");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("must be an absolute URI");
    };
    match scheme {
        "https" => {
            let host = rest.strip_prefix("//").unwrap_or("");
            if host.is_empty() || host.starts_with('/') {
                return Err("must name a host");
            }
            Ok(())
        }
        "http" if loopback_parts(uri).is_some() => Ok(()),
        "http" => Err("plain http is allowed only for 127.0.0.1 or [::1]"),
        s if s.contains('.')
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-')
            }) =>
        {
            Ok(())
        }
        _ => Err("must use https, a loopback http address or a private-use scheme"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_matching() {
        use ClientKind::*;
        let reg = "https://app.example/cb";
        let cases: &[(&str, &str, ClientKind, bool)] = &[
            (reg, reg, Confidential, true),
            (reg, "https://app.example/cb/", Confidential, false),
            (reg, "https://APP.example/cb", Confidential, false),
            (reg, "https://app.example/cb?x=1", Confidential, false),
            (reg, "https://app.example/cb#f", Confidential, false),
            (reg, "https://app.example:8443/cb", Public, false),
            (
                "http://127.0.0.1:9000/cb",
                "http://127.0.0.1:51234/cb",
                Public,
                true,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:51234/cb",
                Public,
                true,
            ),
            ("http://[::1]:1/cb", "http://[::1]:2/cb", Public, true),
            (
                "http://127.0.0.1:9000/cb",
                "http://127.0.0.1:51234/cb",
                Confidential,
                false,
            ),
            (
                "http://127.0.0.1:9000/cb",
                "http://127.0.0.1:51234/other",
                Public,
                false,
            ),
            (
                "http://127.0.0.1:9000/cb",
                "http://localhost:9000/cb",
                Public,
                false,
            ),
            (
                "http://127.0.0.1:9000/cb",
                "http://127.0.0.1:x/cb",
                Public,
                false,
            ),
            (
                "http://127.0.0.1:9000/cb",
                "http://127.0.0.1.evil.example/cb",
                Public,
                false,
            ),
        ];
        for (r, p, k, want) in cases {
            assert_eq!(redirect_uri_matches(r, p, *k), *want, "{r} vs {p} ({k:?})");
        }
    }

    #[test]
    fn registrable_redirect_uris() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "com.example.app:/oauth",
        ] {
            assert_eq!(valid_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/relative",
            "http://app.example/cb",
            "https://app.example/cb#x",
            "https:///nohost",
            "javascript:alert(1)",
            "https://a b",
        ] {
            assert!(valid_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn s256_challenge_shape() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge("short"));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}
