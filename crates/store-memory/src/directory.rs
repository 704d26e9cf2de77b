//! [`DirectoryStore`]: organizations and their users. Usernames are unique across the
//! deployment; e-mail addresses per organization, case-insensitively (ASCII lower-case, as the
//! SQL stores' `email_key`).

use crate::state::{State, tenant};
use crate::{MemoryStore, missing_org};
use async_trait::async_trait;
use domain::ids::{OrganizationId, UserId};
use domain::organization::{Organization, Role, User};
use domain::ports::{CreateError, DirectoryStore, StoreError};

fn duplicate_user(state: &State, user: &User) -> Option<&'static str> {
    if state.users.contains_key(&(user.organization_id, user.id)) {
        return Some("id");
    }
    let email = user.email.as_str().to_ascii_lowercase();
    for u in state.users.values() {
        if user.username.is_some() && u.username == user.username {
            return Some("username");
        }
        if u.organization_id == user.organization_id
            && u.email.as_str().to_ascii_lowercase() == email
        {
            return Some("email");
        }
    }
    None
}

/// Oldest first, the id breaking ties.
fn oldest_first<T>(mut rows: Vec<T>, key: impl Fn(&T) -> (i64, uuid::Uuid)) -> Vec<T> {
    rows.sort_by_key(|r| key(r));
    rows
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), CreateError> {
        let mut state = self.state();
        if state.orgs.contains_key(&org.id) {
            return Err(CreateError::Duplicate { field: "id" });
        }
        state.orgs.insert(org.id, org.clone());
        Ok(())
    }

    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        Ok(self.state().orgs.get(&id).cloned())
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let rows = self.state().orgs.values().cloned().collect();
        Ok(oldest_first(rows, |o: &Organization| {
            (o.created_at.as_millisecond(), o.id.as_uuid())
        }))
    }

    async fn create_user(&self, user: &User) -> Result<(), CreateError> {
        let mut state = self.state();
        if !state.orgs.contains_key(&user.organization_id) {
            return Err(CreateError::Unknown(missing_org(user.organization_id)));
        }
        if let Some(field) = duplicate_user(&state, user) {
            return Err(CreateError::Duplicate { field });
        }
        state
            .users
            .insert((user.organization_id, user.id), user.clone());
        Ok(())
    }

    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.get(&(org, id)).cloned())
    }

    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .range(tenant(org))
            .map(|(_, u)| u)
            .find(|u| u.username.as_ref().is_some_and(|n| n.as_str() == username))
            .cloned())
    }

    async fn find_public_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .values()
            .find(|u| u.username.as_ref().is_some_and(|n| n.as_str() == username))
            .cloned())
    }

    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>, StoreError> {
        let rows = self
            .state()
            .users
            .range(tenant(org))
            .map(|(_, u)| u.clone())
            .collect();
        Ok(oldest_first(rows, |u: &User| {
            (u.created_at.as_millisecond(), u.id.as_uuid())
        }))
    }

    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> Result<bool, StoreError> {
        Ok(match self.state().users.get_mut(&(org, id)) {
            Some(user) => {
                user.password_hash = Some(hash.to_owned());
                true
            }
            None => false,
        })
    }

    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: Role,
    ) -> Result<bool, StoreError> {
        Ok(match self.state().users.get_mut(&(org, id)) {
            Some(user) => {
                user.role = role;
                true
            }
            None => false,
        })
    }

    async fn remove_user(&self, org: OrganizationId, id: UserId) -> Result<bool, StoreError> {
        Ok(self.state().users.remove(&(org, id)).is_some())
    }
}
