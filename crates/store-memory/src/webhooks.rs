//! [`WebhookStore`] in memory: subscriptions and deliveries under the state lock. Fan-out
//! inserts the deliveries (skipping a (webhook, event) pair that has one) and marks the outbox
//! message done in one step; claims lease due deliveries of active subscriptions, so two
//! claimers never receive the same delivery while its lease holds.

use crate::page::keyset;
use crate::state::{ms, tenant};
use crate::{MemoryStore, require_org};
use async_trait::async_trait;
use domain::ids::OrganizationId;
use domain::pagination::{CursorValue, Page, PageRequest};
use domain::ports::{OutboxMessage, StoreError};
use domain::webhook::*;
use jiff::{SignedDuration, Timestamp};

fn insert(state: &mut crate::state::State, d: &Delivery) {
    let dup = state
        .deliveries
        .range(tenant(d.organization_id))
        .any(|(_, (x, _))| x.webhook_id == d.webhook_id && x.event_id == d.event_id);
    if !dup {
        state
            .deliveries
            .insert((d.organization_id, d.id), (d.clone(), None));
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_webhook(&self, w: &Webhook) -> Result<(), StoreError> {
        let mut state = self.state();
        require_org(&state, w.organization_id)?;
        state.webhooks.insert((w.organization_id, w.id), w.clone());
        Ok(())
    }

    async fn get_webhook(
        &self,
        org: OrganizationId,
        id: WebhookId,
    ) -> Result<Option<Webhook>, StoreError> {
        Ok(self.state().webhooks.get(&(org, id)).cloned())
    }

    async fn list_webhooks(
        &self,
        org: OrganizationId,
        owner: Option<&str>,
    ) -> Result<Vec<Webhook>, StoreError> {
        let mut v: Vec<Webhook> = self
            .state()
            .webhooks
            .range(tenant(org))
            .map(|(_, w)| w.clone())
            .filter(|w| owner.is_none_or(|o| w.owner == o))
            .collect();
        v.sort_by_key(|w| (ms(w.created_at), w.id));
        Ok(v)
    }

    async fn update_webhook(&self, w: &Webhook) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.webhooks.get_mut(&(w.organization_id, w.id)) {
            Some(row) => {
                *row = w.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<bool, StoreError> {
        let mut state = self.state();
        state
            .deliveries
            .retain(|(o, _), (d, _)| !(*o == org && d.webhook_id == id));
        Ok(state.webhooks.remove(&(org, id)).is_some())
    }

    async fn fan_out(
        &self,
        m: &OutboxMessage,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        for d in deliveries {
            insert(&mut state, d);
        }
        if let Some(row) = state.outbox.get_mut(&(m.organization_id, m.id)) {
            row.done_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn insert_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        let mut state = self.state();
        require_org(&state, d.organization_id)?;
        insert(&mut state, d);
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let until = now
            .checked_add(lease)
            .map_err(|e| StoreError::Unknown(anyhow::anyhow!("lease end: {e}")))?;
        let mut state = self.state();
        let mut due: Vec<Delivery> = state
            .deliveries
            .values()
            .filter(|(d, lease)| {
                d.state == DeliveryState::Pending
                    && d.next_attempt_at.is_some_and(|t| ms(t) <= ms(now))
                    && lease.is_none_or(|l| ms(l) <= ms(now))
                    && state
                        .webhooks
                        .get(&(d.organization_id, d.webhook_id))
                        .is_some_and(|w| w.status == WebhookStatus::Active)
            })
            .map(|(d, _)| d.clone())
            .collect();
        due.sort_by_key(|d| (d.next_attempt_at.map(ms), d.id));
        due.truncate(max as usize);
        for d in &due {
            if let Some(row) = state.deliveries.get_mut(&(d.organization_id, d.id)) {
                row.1 = Some(until);
            }
        }
        Ok(due)
    }

    async fn record_attempt(
        &self,
        d: &Delivery,
        effect: AttemptEffect,
        pause_after: u32,
        pause_reason: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(row) = state.deliveries.get_mut(&(d.organization_id, d.id)) {
            *row = (d.clone(), None);
        }
        if let Some(w) = state.webhooks.get_mut(&(d.organization_id, d.webhook_id)) {
            w.last_delivery_at = d.last_attempt_at;
            w.last_delivery_ok = Some(d.state == DeliveryState::Delivered);
            match effect {
                AttemptEffect::Delivered => w.consecutive_failures = 0,
                AttemptEffect::Retry | AttemptEffect::Test => {}
                AttemptEffect::Exhausted => {
                    w.consecutive_failures += 1;
                    if w.consecutive_failures >= pause_after {
                        if w.status == WebhookStatus::Active {
                            w.paused_reason = Some(pause_reason.to_owned());
                        }
                        w.status = WebhookStatus::Paused;
                    }
                }
            }
        }
        Ok(())
    }

    async fn get_delivery(
        &self,
        org: OrganizationId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .state()
            .deliveries
            .get(&(org, id))
            .map(|(d, _)| d.clone()))
    }

    async fn list_deliveries(
        &self,
        org: OrganizationId,
        webhook: WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let rows: Vec<Delivery> = self
            .state()
            .deliveries
            .range(tenant(org))
            .filter(|(_, (d, _))| d.webhook_id == webhook)
            .map(|(_, (d, _))| d.clone())
            .collect();
        Ok(keyset(rows, DELIVERIES_SORT, true, page, |d| {
            (CursorValue::Int(ms(d.created_at)), d.id.0)
        }))
    }

    async fn purge_finished(
        &self,
        before: Timestamp,
        max: u32,
        notified: &[&str],
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let old: Vec<_> = state
            .deliveries
            .iter()
            .filter(|(_, (d, _))| {
                d.state != DeliveryState::Pending && ms(d.created_at) < ms(before)
            })
            .map(|(k, _)| *k)
            .take(max as usize)
            .collect();
        for k in &old {
            state.deliveries.remove(k);
        }
        let done: Vec<_> = state
            .outbox
            .iter()
            .filter(|(_, r)| r.done_at.is_some_and(|t| ms(t) < ms(before)))
            // Messages that send e-mail wait for the notification consumer's cursor as well.
            .filter(|(k, r)| {
                !notified.contains(&r.message.event.as_str())
                    || state
                        .notify_cursor
                        .get(k)
                        .is_some_and(|(_, done)| done.is_some())
            })
            .map(|(k, _)| *k)
            .take(max as usize)
            .collect();
        for k in &done {
            state.outbox.remove(k);
        }
        Ok((old.len() + done.len()) as u64)
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        let state = self.state();
        let pending = state
            .deliveries
            .values()
            .filter(|(d, _)| d.state == DeliveryState::Pending)
            .count();
        let undone = state
            .outbox
            .values()
            .filter(|r| r.done_at.is_none())
            .count();
        Ok((pending + undone) as u64)
    }
}
