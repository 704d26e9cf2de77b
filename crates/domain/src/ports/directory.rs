//! Organizations and users.

use super::{CreateError, StoreError};
use crate::ids::*;
use crate::organization::{Organization, Role, User};
use async_trait::async_trait;

/// Organizations and users.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn create_organization(&self, org: &Organization) -> Result<(), CreateError>;
    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError>;
    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError>;
    /// Usernames are unique across the deployment (they form public URLs); e-mail addresses are
    /// unique per organization, case-insensitively. Violations → `Duplicate { field }`.
    async fn create_user(&self, user: &User) -> Result<(), CreateError>;
    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>, StoreError>;
    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>, StoreError>;
    /// The user with this public username in any organization (usernames are unique across
    /// the deployment; the booking pages' `/{username}`). A deliberate cross-tenant read, like
    /// the PAT lookup: the username is public and names its own organization.
    async fn find_public_user(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Users of one organization, oldest first.
    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>, StoreError>;
    /// Returns false when the user does not exist in `org`.
    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> Result<bool, StoreError>;
    /// Changes a user's role; false when the user does not exist in `org`.
    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: Role,
    ) -> Result<bool, StoreError>;
    /// Removes a user from `org` (the row is deleted; bookings, event types and schedules that
    /// name the user stay). False when the user does not exist in `org`. Every token of the
    /// user stops authenticating on its next request, because authentication reads the user.
    async fn remove_user(&self, org: OrganizationId, id: UserId) -> Result<bool, StoreError>;
}
