//! [`IdempotencyStore`]: idempotency records keyed by (organization, credential owner, key).
//! `reserve` reads and writes the record under the state lock, so two concurrent reservations
//! of one key cannot both win. Expiry is judged by the caller's `now` (never a clock of this
//! crate), so tests drive it with a fake clock.

use crate::state::{IdempotencyRecord, State, ms};
use crate::{MemoryStore, require_org};
use async_trait::async_trait;
use domain::ports::{
    IDEMPOTENCY_IN_PROGRESS_LEASE, IDEMPOTENCY_TTL, IdempotencyKey, IdempotencyStore, ReplayRecord,
    Reservation, StoreError,
};
use jiff::Timestamp;

/// Stores the response of `key`, if the key is (still) recorded.
pub(crate) fn complete_on(state: &mut State, key: &IdempotencyKey, replay: &ReplayRecord) {
    if let Some(record) = state.idempotency.get_mut(key) {
        record.response = Some(replay.clone());
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<Reservation, StoreError> {
        let mut state = self.state();
        require_org(&state, key.organization_id)?;
        if let Some(record) = state.idempotency.get(key) {
            let age = ms(now).saturating_sub(ms(record.created_at));
            let expired = age > IDEMPOTENCY_TTL.as_millis() as i64;
            let abandoned =
                record.response.is_none() && age > IDEMPOTENCY_IN_PROGRESS_LEASE.as_millis() as i64;
            if !expired && !abandoned {
                if record.fingerprint != fingerprint {
                    return Ok(Reservation::Mismatch);
                }
                return Ok(match &record.response {
                    Some(r) => Reservation::Replay(r.clone()),
                    None => Reservation::InProgress,
                });
            }
        }
        // Absent, expired or abandoned: (re)take the key.
        state.idempotency.insert(
            key.clone(),
            IdempotencyRecord {
                fingerprint: fingerprint.to_owned(),
                response: None,
                created_at: now,
            },
        );
        Ok(Reservation::Reserved)
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        complete_on(&mut self.state(), key, record);
        Ok(())
    }

    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .idempotency
            .get(key)
            .is_some_and(|r| r.response.is_none())
        {
            state.idempotency.remove(key);
        }
        Ok(())
    }

    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError> {
        let mut state = self.state();
        let mut old: Vec<(Timestamp, IdempotencyKey)> = state
            .idempotency
            .iter()
            .filter(|(_, r)| r.created_at < before)
            .map(|(k, r)| (r.created_at, k.clone()))
            .collect();
        old.sort_by_key(|(at, _)| *at);
        old.truncate(max as usize);
        for (_, k) in &old {
            state.idempotency.remove(k);
        }
        Ok(old.len() as u64)
    }
}
