//! [`IdempotencyStore`]: idempotency records keyed by (organization, credential owner, key).
//! `reserve` reads and writes the record under the state lock, so two concurrent reservations
//! of one key cannot both win. Expiry is judged by the caller's `now` (never a clock of this
//! crate), so tests drive it with a fake clock.

use crate::state::{IdempotencyRecord, State, ms};
use crate::{MemoryStore, require_org};
use async_trait::async_trait;
use domain::ports::{
    IDEMPOTENCY_TTL, IdempotencyKey, IdempotencyStore, ReplayRecord, Reservation, ReservationNonce,
    ReservedKey, StoreError,
};
use jiff::{SignedDuration, Timestamp};

/// True when `reserved` is still the unfinished reservation of its key (same nonce).
pub(crate) fn holds(state: &State, reserved: &ReservedKey) -> bool {
    state
        .idempotency
        .get(&reserved.key)
        .is_some_and(|r| r.response.is_none() && r.nonce == Some(reserved.nonce))
}

/// Stores the response of `reserved`, if it still holds its key; else `reservation_lost`.
pub(crate) fn complete_on(
    state: &mut State,
    reserved: &ReservedKey,
    replay: &ReplayRecord,
) -> Result<(), StoreError> {
    if !holds(state, reserved) {
        return Err(StoreError::reservation_lost());
    }
    if let Some(record) = state.idempotency.get_mut(&reserved.key) {
        record.response = Some(replay.clone());
    }
    Ok(())
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Reservation, StoreError> {
        let mut state = self.state();
        require_org(&state, key.organization_id)?;
        if let Some(record) = state.idempotency.get(key) {
            let age = ms(now).saturating_sub(ms(record.created_at));
            let expired = age > IDEMPOTENCY_TTL.as_millis() as i64;
            let abandoned = record.response.is_none() && age > lease.as_millis() as i64;
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
        // Absent, expired or abandoned: (re)take the key, under a new nonce.
        let nonce = ReservationNonce(uuid::Uuid::new_v4());
        state.idempotency.insert(
            key.clone(),
            IdempotencyRecord {
                fingerprint: fingerprint.to_owned(),
                response: None,
                created_at: now,
                nonce: Some(nonce),
            },
        );
        Ok(Reservation::Reserved(nonce))
    }

    async fn complete(
        &self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        complete_on(&mut self.state(), reserved, record)
    }

    async fn release(&self, reserved: &ReservedKey) -> Result<(), StoreError> {
        let mut state = self.state();
        if holds(&state, reserved) {
            state.idempotency.remove(&reserved.key);
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
