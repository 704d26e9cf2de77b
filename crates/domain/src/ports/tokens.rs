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
