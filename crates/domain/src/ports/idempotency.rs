//! Idempotency records (§6.3).

use super::StoreError;
use crate::ids::*;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

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
/// After this long an unfinished reservation is considered abandoned (its process died) and may
/// be taken over.
pub const IDEMPOTENCY_IN_PROGRESS_LEASE: SignedDuration = SignedDuration::from_mins(5);

/// Outcome of reserving a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The caller owns the key now and must `complete` or `release` it.
    Reserved,
    /// Same key and body completed before: replay this.
    Replay(ReplayRecord),
    /// Same key still executing.
    InProgress,
    /// Same key, different body fingerprint.
    Mismatch,
}

/// Idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically reserves `key` for a request whose canonical body hashes to `fingerprint`.
    /// Records older than [`IDEMPOTENCY_TTL`] (by `now`) count as absent, and so do
    /// reservations left unfinished for longer than [`IDEMPOTENCY_IN_PROGRESS_LEASE`].
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<Reservation, StoreError>;
    /// Stores the replay record outside a booking transaction.
    async fn complete(&self, key: &IdempotencyKey, record: &ReplayRecord)
    -> Result<(), StoreError>;
    /// Forgets an unfinished reservation so the key can be retried (the first attempt failed).
    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError>;
    /// Deletes up to `max` records taken before `before` (done or not), oldest first; returns
    /// how many. Retention: callers pass `now - IDEMPOTENCY_TTL`, so only records that already
    /// count as absent go.
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError>;
}
