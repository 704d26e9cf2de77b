//! [`TokenStore`]: personal access tokens (only the peppered HMAC of the secret is stored).
//! `create_pat` counts the organization's active tokens and inserts under the state lock, so
//! concurrent creations cannot exceed the cap. Names are unique per organization,
//! case-insensitively; the lookup id is unique across the deployment and is the one
//! cross-tenant read.

use crate::state::{ms, tenant};
use crate::{MemoryStore, missing_org};
use async_trait::async_trait;
use domain::ids::{OrganizationId, TokenId, UserId};
use domain::ports::{CreatePatError, MAX_ACTIVE_PATS, PersonalAccessToken, StoreError, TokenStore};
use jiff::Timestamp;

#[async_trait]
impl TokenStore for MemoryStore {
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> Result<(), CreatePatError> {
        let mut state = self.state();
        let org = pat.organization_id;
        if !state.orgs.contains_key(&org) {
            return Err(CreatePatError::Unknown(missing_org(org)));
        }
        let active = state
            .pats
            .range(tenant(org))
            .filter(|(_, p)| p.revoked_at.is_none() && p.expires_at.is_none_or(|e| ms(e) > ms(now)))
            .count();
        if active >= MAX_ACTIVE_PATS as usize {
            return Err(CreatePatError::TooManyActive);
        }
        let name = pat.name.to_lowercase();
        if state
            .pats
            .range(tenant(org))
            .any(|(_, p)| p.name.to_lowercase() == name)
        {
            return Err(CreatePatError::NameTaken);
        }
        if state.pats.contains_key(&(org, pat.id))
            || state.pats.values().any(|p| p.lookup == pat.lookup)
        {
            return Err(CreatePatError::Unknown(anyhow::anyhow!(
                "token id or lookup id already exists"
            )));
        }
        state.pats.insert((org, pat.id), pat.clone());
        Ok(())
    }

    async fn find_pat_by_lookup(
        &self,
        lookup: &str,
    ) -> Result<Option<PersonalAccessToken>, StoreError> {
        Ok(self
            .state()
            .pats
            .values()
            .find(|p| p.lookup == lookup)
            .cloned())
    }

    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError> {
        let mut rows: Vec<PersonalAccessToken> = self
            .state()
            .pats
            .range(tenant(org))
            .map(|(_, p)| p)
            .filter(|p| user.is_none_or(|u| p.user_id == u))
            .cloned()
            .collect();
        rows.sort_by_key(|p| (ms(p.created_at), p.id));
        Ok(rows)
    }

    async fn revoke_pat(
        &self,
        org: OrganizationId,
        id: TokenId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(match self.state().pats.get_mut(&(org, id)) {
            Some(p) if p.revoked_at.is_none() => {
                p.revoked_at = Some(now);
                true
            }
            _ => false,
        })
    }
}
