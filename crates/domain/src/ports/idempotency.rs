//! Idempotency records (§6.3).
//!
//! A reservation is owned by the request that made it, proven by the random
//! [`ReservationNonce`] `reserve` returned: completing or releasing it needs that nonce, so a
//! late request whose reservation was taken over after its lease (see [`IdempotencyStore::reserve`])
//! can neither overwrite nor delete the new owner's record. The lease is not a constant: the
//! server derives it from its configuration (request timeout + pool acquire timeout + lock
//! timeout) and passes it to every `reserve`.

use super::{BookingWriteError, CreateError, DeleteError, StoreError, UpdateError};
use crate::ids::*;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::error::Error as StdError;

/// An idempotency key in its scope: (account, credential owner, key) (§6.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    pub organization_id: OrganizationId,
    /// [`crate::access::Principal::owner_key`].
    pub owner: String,
    /// Caller-chosen, 1–255 characters.
    pub key: String,
}

/// What a completed request leaves for its replay: opaque text that the domain attaches to the
/// unit of work and stores return unchanged, never read or interpreted here (the HTTP layer
/// encodes its status, headers and body into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord(pub String);

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL: SignedDuration = SignedDuration::from_hours(24);

/// The proof that a request owns a reservation: fresh and random (a UUID v4, 122 random bits,
/// drawn by the store — the domain draws no randomness) for every `reserve` that answers
/// [`Reservation::Reserved`], stored with the reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReservationNonce(pub uuid::Uuid);

/// A key as reserved by one request: what `complete`, `release` and the in-transaction
/// completion need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedKey {
    pub key: IdempotencyKey,
    pub nonce: ReservationNonce,
}

impl std::ops::Deref for ReservedKey {
    type Target = IdempotencyKey;
    fn deref(&self) -> &IdempotencyKey {
        &self.key
    }
}

/// Outcome of reserving a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The caller owns the key now, under this nonce, and must `complete` or `release` it.
    Reserved(ReservationNonce),
    /// Same key and body completed before: replay this.
    Replay(ReplayRecord),
    /// Same key still executing.
    InProgress,
    /// Same key, different body fingerprint.
    Mismatch,
}

impl Reservation {
    /// The nonce of a [`Reservation::Reserved`].
    pub fn nonce(&self) -> Option<ReservationNonce> {
        match self {
            Reservation::Reserved(n) => Some(*n),
            _ => None,
        }
    }
}

/// The marker error of a completion whose reservation is no longer the caller's: its nonce
/// does not match (the lease expired and another request took the key over, or the
/// reservation was released or purged). A booking transaction that meets it fails and commits
/// nothing; the HTTP layer answers `409 idempotency_in_progress` (the key belongs to another
/// request now; a retry replays its outcome or takes the key). It travels inside
/// `StoreError::Unknown` like [`super::StoreUnavailable`]; ask [`reservation_lost`].
#[derive(Debug, thiserror::Error)]
#[error(
    "the idempotency reservation is no longer this request's (its lease expired and the key was taken over, or it was released)"
)]
pub struct ReservationLost;

impl StoreError {
    /// A [`ReservationLost`] failure.
    pub fn reservation_lost() -> Self {
        StoreError::Unknown(anyhow::Error::new(ReservationLost))
    }
}

/// True when [`ReservationLost`] is anywhere in `e`'s chain (under contexts, and inside the
/// transparent `Unknown` variants of the store and booking-write errors).
pub fn reservation_lost(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ReservationLost>().is_some() || e.chain().any(is_lost)
}

fn is_lost(c: &(dyn StdError + 'static)) -> bool {
    if c.downcast_ref::<ReservationLost>().is_some() {
        return true;
    }
    let inner = if let Some(StoreError::Unknown(e)) = c.downcast_ref::<StoreError>() {
        e
    } else if let Some(BookingWriteError::Unknown(e)) = c.downcast_ref::<BookingWriteError>() {
        e
    } else if let Some(CreateError::Unknown(e)) = c.downcast_ref::<CreateError>() {
        e
    } else if let Some(UpdateError::Unknown(e)) = c.downcast_ref::<UpdateError>() {
        e
    } else if let Some(DeleteError::Unknown(e)) = c.downcast_ref::<DeleteError>() {
        e
    } else {
        return false;
    };
    reservation_lost(inner)
}

/// Idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically reserves `key` for a request whose canonical body hashes to `fingerprint`,
    /// with a fresh [`ReservationNonce`]. Records older than [`IDEMPOTENCY_TTL`] (by `now`)
    /// count as absent, and so do reservations left unfinished for longer than `lease` (their
    /// request was dropped without a release: the process crashed or the release failed); a
    /// takeover gets a new nonce, so the old owner can no longer complete or release it.
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Reservation, StoreError>;
    /// Stores the replay record outside a booking transaction, only if `reserved` is still the
    /// unfinished reservation of its key (same nonce); otherwise nothing is written and the
    /// error is [`StoreError::reservation_lost`].
    async fn complete(
        &self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError>;
    /// Forgets an unfinished reservation so the key can be retried (the first attempt failed).
    /// Does nothing when the key is completed or its nonce is not `reserved.nonce` (the key was
    /// taken over): a late release never deletes another request's reservation.
    async fn release(&self, reserved: &ReservedKey) -> Result<(), StoreError>;
    /// Deletes up to `max` records taken before `before` (done or not), oldest first; returns
    /// how many. Retention: callers pass `now - IDEMPOTENCY_TTL`, so only records that already
    /// count as absent go.
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservation_lost_is_found_under_contexts_and_wrappers() {
        let StoreError::Unknown(e) = StoreError::reservation_lost();
        assert!(reservation_lost(&e));
        let e = e.context("completing").context("booking write");
        assert!(reservation_lost(&e));
        // StoreError → BookingWriteError → a service error's `Unknown(anyhow)`: the transparent
        // wrappers hide the top of the inner chain, and are looked through.
        let write = BookingWriteError::from(StoreError::reservation_lost());
        assert!(reservation_lost(&anyhow::Error::new(write)));
        let wrapped = anyhow::Error::new(StoreError::reservation_lost()).context("x");
        assert!(reservation_lost(&wrapped));
    }

    #[test]
    fn other_errors_are_not_reservation_lost() {
        assert!(!reservation_lost(&anyhow::anyhow!("boom")));
        let write = BookingWriteError::from(StoreError::Unknown(anyhow::anyhow!("boom")));
        assert!(!reservation_lost(&anyhow::Error::new(write)));
        let unavailable = StoreError::unavailable(
            super::super::UnavailableKind::PoolTimeout,
            std::io::Error::other("pool"),
        );
        let StoreError::Unknown(e) = unavailable;
        assert!(!reservation_lost(&e));
    }
}
