//! In-memory adapter for Slotbook's storage ports: every row lives in ordered maps behind one
//! mutex, so a domain service can be unit-tested without a database and an embedder can try
//! `domain` in a few lines.
//!
//! [`MemoryStore`] implements every port of [`domain::ports`] (and the optional
//! [`domain::ports::RateLimitCounter`]) with the guarantees the ports document and the
//! `store-contract` suite checks: tenancy (every key starts with the organization), uniqueness
//! rules, optimistic versions, keyset pagination, the overlap guard for time-holding bookings
//! (seats of one group slot excepted), idempotency expiry judged by the caller's `now`, outbox
//! leases and the active-token cap.
//!
//! Booking writes are a unit of work: [`BookingStore::begin`](domain::ports::BookingStore::begin)
//! waits for the one writer turn (an async lock, so waiting never blocks a thread) and returns a
//! [`MemoryBookingTx`] that stages its writes and sees them in its own reads; `commit` applies
//! them in one step under the state lock, dropping the transaction discards them. Writes that
//! change what a booking transaction decided on (event-type and schedule updates and deletes)
//! also take the writer turn. There is no lock timeout: a task that holds a booking transaction
//! open and writes an event type in the same task waits forever.
//!
//! This crate uses no async runtime and must never interpret business rules beyond what the
//! port contracts state, nor return or change another organization's rows.

mod bookings;
mod directory;
mod event_types;
mod idempotency;
mod invitee_links;
mod notifications;
mod oauth;
mod outbox;
mod page;
mod rate_limit;
mod schedules;
mod state;
mod tokens;
mod tx;
mod webhooks;

use async_trait::async_trait;
use domain::ids::OrganizationId;
use domain::ports::{Storage, StoreError};
use futures::lock::{Mutex as AsyncMutex, OwnedMutexGuard};
use state::State;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use tx::MemoryBookingTx;

/// The in-memory store. Cheap to clone: clones share one set of maps. Everything is lost when
/// the last clone is dropped.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    /// The writer turn: one booking transaction at a time (see the crate documentation).
    writer: Arc<AsyncMutex<()>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Diagnostic: pairs of time-holding bookings of one organization and host whose blocked
    /// ranges overlap, not counting seats of the same group slot. Zero in a healthy store.
    pub fn count_overlapping_bookings(&self) -> i64 {
        let state = self.state();
        let holding: Vec<_> = state
            .bookings
            .values()
            .filter(|s| s.booking.status.holds_time())
            .collect();
        let mut n = 0;
        for (i, a) in holding.iter().enumerate() {
            for b in &holding[i + 1..] {
                let (x, y) = (&a.booking, &b.booking);
                let seats = a.shares_seats
                    && b.shares_seats
                    && x.event_type_id == y.event_type_id
                    && x.start == y.start;
                if x.organization_id == y.organization_id
                    && x.host_user_id == y.host_user_id
                    && x.blocked.overlaps(&y.blocked)
                    && !seats
                {
                    n += 1;
                }
            }
        }
        n
    }

    /// The state maps. A panic while the lock was held cannot leave them half-written: every
    /// write validates first and mutates last, so a poisoned lock is taken over.
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the writer turn.
    async fn write_turn(&self) -> OwnedMutexGuard<()> {
        self.inner.writer.clone().lock_owned().await
    }
}

/// A driver-free "foreign key" failure: the organization a row names does not exist.
fn missing_org(org: OrganizationId) -> anyhow::Error {
    anyhow::anyhow!("organization {org} does not exist")
}

/// Fails unless `org` exists (the SQL stores' foreign key on `organizations`).
fn require_org(state: &State, org: OrganizationId) -> Result<(), StoreError> {
    if state.orgs.contains_key(&org) {
        Ok(())
    } else {
        Err(StoreError::Unknown(missing_org(org)))
    }
}

#[async_trait]
impl Storage for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
