//! Personal access tokens.

use super::StoreError;
use crate::access::ScopeSet;
use crate::ids::*;
use async_trait::async_trait;
use jiff::Timestamp;

/// A personal access token as stored: never the secret, only its peppered HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    /// Unique per organization, case-insensitively.
    pub name: String,
    /// The public 12-character lookup id; unique across the deployment.
    pub lookup: String,
    /// HMAC-SHA256(pepper, secret).
    pub secret_hash: Vec<u8>,
    pub scopes: ScopeSet,
    /// Last four characters of the secret, for display.
    pub last_four: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// At most this many active (unrevoked, unexpired) tokens per organization.
pub const MAX_ACTIVE_PATS: u32 = 42;

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreatePatError {
    #[error("the account already has {MAX_ACTIVE_PATS} active tokens; revoke one first")]
    TooManyActive,
    #[error("a token with this name already exists")]
    NameTaken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Personal access tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Inserts atomically with the check that fewer than [`MAX_ACTIVE_PATS`] tokens of the
    /// organization are active at `now`.
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> Result<(), CreatePatError>;
    /// By public lookup id. The one cross-tenant read: the token names its own organization.
    async fn find_pat_by_lookup(
        &self,
        lookup: &str,
    ) -> Result<Option<PersonalAccessToken>, StoreError>;
    /// Oldest first; optionally one user's.
    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError>;
    /// Returns false when no unrevoked token `id` exists in `org`.
    async fn revoke_pat(
        &self,
        org: OrganizationId,
        id: TokenId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// A personal access token row that authenticated, with its user's role as read then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPatAuth {
    pub pat: PersonalAccessToken,
    /// The token's user's role when the row authenticated (the user existed then).
    pub role: crate::organization::Role,
}

/// A short-lived cache of authenticated personal access tokens — the token row together with
/// its user's role and existence — so that a busy client does not cost a token read and a user
/// read per request (`http-api`'s `AuthCache` implements it). Only tokens that just
/// authenticated are put; the secret and the expiry are checked again on every hit. The cache
/// can delay a revocation, a user's removal or a role change written by another process — by
/// the implementation's bound, the same for all three.
#[async_trait]
pub trait PatCache: Send + Sync {
    /// The entry cached for `lookup` if it is still fresh at `now`.
    async fn get(&self, lookup: &str, now: Timestamp) -> Option<std::sync::Arc<CachedPatAuth>>;
    /// Records a token (and its user's role) that authenticated at `now`.
    async fn put(&self, auth: CachedPatAuth, now: Timestamp);
}

/// No cache: every request reads the token row and its user.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPatCache;

#[async_trait]
impl PatCache for NoPatCache {
    async fn get(&self, _lookup: &str, _now: Timestamp) -> Option<std::sync::Arc<CachedPatAuth>> {
        None
    }

    async fn put(&self, _auth: CachedPatAuth, _now: Timestamp) {}
}
