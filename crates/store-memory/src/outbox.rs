//! [`OutboxStore`]: the transactional outbox. Messages written with a change (an event-type
//! write, a booking transaction) are checked first and inserted in the same step as the change
//! ([`check_new`] then [`insert_checked`]). `claim` leases free or expired messages
//! (`lease_until <= now`) of every organization, oldest first, under the state lock, so two
//! claimers never receive the same message while its lease holds.

use crate::state::{OutboxRow, State, ms, tenant};
use crate::{MemoryStore, require_org};
use async_trait::async_trait;
use domain::ids::{OrganizationId, OutboxId};
use domain::ports::{OutboxMessage, OutboxStore, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

/// Fails when a message names a missing organization or reuses an id (stored or in `messages`).
pub(crate) fn check_new(state: &State, messages: &[OutboxMessage]) -> Result<(), StoreError> {
    let mut seen = BTreeSet::new();
    for m in messages {
        require_org(state, m.organization_id)?;
        let key = (m.organization_id, m.id);
        if state.outbox.contains_key(&key) || !seen.insert(key) {
            return Err(StoreError::Unknown(anyhow::anyhow!(
                "outbox message {} already exists",
                m.id
            )));
        }
    }
    Ok(())
}

/// Inserts messages that passed [`check_new`].
pub(crate) fn insert_checked(state: &mut State, messages: &[OutboxMessage]) {
    for m in messages {
        state.outbox.insert(
            (m.organization_id, m.id),
            OutboxRow {
                message: m.clone(),
                lease_until: None,
                done_at: None,
            },
        );
    }
}

fn oldest_first(mut rows: Vec<OutboxMessage>) -> Vec<OutboxMessage> {
    rows.sort_by_key(|m| (ms(m.created_at), m.id));
    rows
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn enqueue(&self, message: &OutboxMessage) -> Result<(), StoreError> {
        let mut state = self.state();
        let one = std::slice::from_ref(message);
        check_new(&state, one)?;
        insert_checked(&mut state, one);
        Ok(())
    }

    async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = now
            .checked_add(lease)
            .map_err(|e| StoreError::Unknown(anyhow::anyhow!("lease end: {e}")))?;
        let mut state = self.state();
        let free: Vec<OutboxMessage> = state
            .outbox
            .values()
            .filter(|r| r.done_at.is_none() && r.lease_until.is_none_or(|l| ms(l) <= ms(now)))
            .map(|r| r.message.clone())
            .collect();
        let mut claimed = oldest_first(free);
        claimed.truncate(max as usize);
        for m in &claimed {
            if let Some(row) = state.outbox.get_mut(&(m.organization_id, m.id)) {
                row.lease_until = Some(until);
            }
        }
        Ok(claimed)
    }

    async fn mark_done(
        &self,
        org: OrganizationId,
        id: OutboxId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.state().outbox.get_mut(&(org, id)) {
            row.done_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn pending(&self, org: OrganizationId) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = self
            .state()
            .outbox
            .range(tenant(org))
            .filter(|(_, r)| r.done_at.is_none())
            .map(|(_, r)| r.message.clone())
            .collect();
        Ok(oldest_first(rows))
    }
}
