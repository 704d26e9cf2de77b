//! [`InviteeLinkStore`]: the invitees' self-service links (token hash and sealed token per
//! booking), under the state lock. The first link stored for a booking stays.

use crate::state::tenant;
use crate::{MemoryStore, missing_org};
use async_trait::async_trait;
use domain::booking_page::link::{InviteeLink, InviteeLinkStore};
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::StoreError;

#[async_trait]
impl InviteeLinkStore for MemoryStore {
    async fn insert_invitee_link(&self, link: &InviteeLink) -> Result<InviteeLink, StoreError> {
        let mut state = self.state();
        let key = (link.organization_id, link.booking_uid);
        if let Some(existing) = state.invitee_links.get(&key) {
            return Ok(existing.clone());
        }
        if !state.bookings.contains_key(&key) {
            return Err(StoreError::Unknown(if state.orgs.contains_key(&key.0) {
                anyhow::anyhow!("invitee link for an unknown booking {}", key.1.0)
            } else {
                missing_org(key.0)
            }));
        }
        if state
            .invitee_links
            .range(tenant(link.organization_id))
            .any(|(_, l)| l.token_hash == link.token_hash)
        {
            return Err(StoreError::Unknown(anyhow::anyhow!(
                "invitee link token hash already stored"
            )));
        }
        state.invitee_links.insert(key, link.clone());
        Ok(link.clone())
    }

    async fn invitee_link(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<InviteeLink>, StoreError> {
        Ok(self.state().invitee_links.get(&(org, uid)).cloned())
    }

    async fn find_invitee_link(
        &self,
        org: OrganizationId,
        token_hash: &[u8],
    ) -> Result<Option<InviteeLink>, StoreError> {
        Ok(self
            .state()
            .invitee_links
            .range(tenant(org))
            .find(|(_, l)| l.token_hash == token_hash)
            .map(|(_, l)| l.clone()))
    }
}
