//! [`NotificationStore`]: the notification consumer's outbox cursor (kept beside the outbox
//! rows, independent of the webhook fan-out's lease and `done` mark) and one row per (event,
//! kind, recipient), claimed with leases under the state lock.

use crate::MemoryStore;
use crate::state::ms;
use async_trait::async_trait;
use domain::ids::{BookingUid, OrganizationId};
use domain::notification::*;
use domain::ports::{OutboxMessage, StoreError};
use jiff::{SignedDuration, Timestamp};

fn lease_end(now: Timestamp, lease: SignedDuration) -> Result<Timestamp, StoreError> {
    now.checked_add(lease)
        .map_err(|e| StoreError::Unknown(anyhow::anyhow!("lease end: {e}")))
}

#[async_trait]
impl NotificationStore for MemoryStore {
    async fn claim_notification_events(
        &self,
        events: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = lease_end(now, lease)?;
        let mut state = self.state();
        let mut free: Vec<OutboxMessage> = state
            .outbox
            .values()
            .filter(|r| events.contains(&r.message.event.as_str()))
            .filter(|r| {
                let key = (r.message.organization_id, r.message.id);
                match state.notify_cursor.get(&key) {
                    None => true,
                    Some((lease, done)) => done.is_none() && lease.is_none_or(|l| ms(l) <= ms(now)),
                }
            })
            .map(|r| r.message.clone())
            .collect();
        free.sort_by_key(|m| (ms(m.created_at), m.id));
        free.truncate(max as usize);
        for m in &free {
            state
                .notify_cursor
                .insert((m.organization_id, m.id), (Some(until), None));
        }
        Ok(free)
    }

    async fn fan_out_notifications(
        &self,
        m: &OutboxMessage,
        notifications: &[Notification],
        cancel_reminders_of: &[BookingUid],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        for (n, _) in state.notifications.values_mut() {
            if n.organization_id == m.organization_id
                && cancel_reminders_of.contains(&n.booking_uid)
                && n.kind == NotificationKind::Reminder
                && n.state == NotificationState::Pending
            {
                n.state = NotificationState::Skipped;
                n.next_attempt_at = None;
                n.updated_at = now;
            }
        }
        for n in notifications {
            let duplicate = state.notifications.values().any(|(o, _)| {
                o.organization_id == n.organization_id
                    && o.outbox_id == n.outbox_id
                    && o.kind == n.kind
                    && o.recipient.email.eq_ignore_ascii_case(&n.recipient.email)
            });
            if !duplicate {
                state
                    .notifications
                    .insert((n.organization_id, n.id), (n.clone(), None));
            }
        }
        let entry = state
            .notify_cursor
            .entry((m.organization_id, m.id))
            .or_insert((None, None));
        if entry.1.is_none() {
            entry.1 = Some(now);
        }
        Ok(())
    }

    async fn claim_notifications(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let until = lease_end(now, lease)?;
        let mut state = self.state();
        let mut due: Vec<Notification> = state
            .notifications
            .values()
            .filter(|(n, lease)| {
                n.state == NotificationState::Pending
                    && n.next_attempt_at.is_some_and(|t| ms(t) <= ms(now))
                    && lease.is_none_or(|l| ms(l) <= ms(now))
            })
            .map(|(n, _)| n.clone())
            .collect();
        due.sort_by_key(|n| (n.next_attempt_at.map(ms), n.id));
        due.truncate(max as usize);
        for n in &due {
            if let Some(row) = state.notifications.get_mut(&(n.organization_id, n.id)) {
                row.1 = Some(until);
            }
        }
        Ok(due)
    }

    async fn record_notification(&self, n: &Notification) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(row) = state.notifications.get_mut(&(n.organization_id, n.id)) {
            let stored = &mut row.0;
            stored.state = n.state;
            stored.attempts = n.attempts;
            stored.next_attempt_at = n.next_attempt_at;
            stored.last_error = n.last_error.clone();
            stored.sent_at = n.sent_at;
            stored.updated_at = n.updated_at;
            row.1 = None;
        }
        Ok(())
    }

    async fn list_notifications(
        &self,
        org: OrganizationId,
        state_filter: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let state = self.state();
        let mut out: Vec<Notification> = state
            .notifications
            .values()
            .map(|(n, _)| n)
            .filter(|n| n.organization_id == org && state_filter.is_none_or(|s| n.state == s))
            .cloned()
            .collect();
        out.sort_by_key(|n| std::cmp::Reverse((ms(n.created_at), n.id)));
        out.truncate(limit as usize);
        Ok(out)
    }
}
