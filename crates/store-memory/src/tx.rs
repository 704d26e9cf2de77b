//! [`MemoryBookingTx`]: one booking write. It holds the store's writer turn from `begin` to
//! commit or drop, stages its booking rows, outbox messages and idempotent responses, and sees
//! its own staged rows in its reads. `commit` applies everything in one step under the state
//! lock; dropping the transaction discards it.
//!
//! The double-booking guard lives here: a booking that holds time is staged only if no other
//! time-holding booking of the same organization and host (stored or staged) overlaps its
//! blocked range, seats of one group slot (both seats, same event type and start) excepted.
//! Booking rows change only through these transactions, which run one at a time, so the
//! check stays true until commit.

use crate::bookings::{View, slot_inputs};
use crate::outbox::{check_new, insert_checked};
use crate::state::{StoredBooking, ms};
use crate::{MemoryStore, require_org};
use async_trait::async_trait;
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::{
    BookingTx, BookingWriteError, OutboxMessage, ReplayRecord, ReservedKey, StoreError,
};
use domain::slots::{InputRanges, SlotInputs};
use futures::lock::OwnedMutexGuard;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// A booking write in progress (see the module documentation).
pub struct MemoryBookingTx {
    store: MemoryStore,
    org: OrganizationId,
    staged: BTreeMap<BookingUid, StoredBooking>,
    outbox: Vec<OutboxMessage>,
    completions: Vec<(ReservedKey, ReplayRecord)>,
    _turn: OwnedMutexGuard<()>,
}

impl MemoryBookingTx {
    pub(crate) fn new(store: MemoryStore, org: OrganizationId, turn: OwnedMutexGuard<()>) -> Self {
        Self {
            store,
            org,
            staged: BTreeMap::new(),
            outbox: Vec::new(),
            completions: Vec::new(),
            _turn: turn,
        }
    }

    fn check_org(&self, org: OrganizationId) -> Result<(), StoreError> {
        if org == self.org {
            Ok(())
        } else {
            Err(StoreError::Unknown(anyhow::anyhow!(
                "booking write opened for organization {} touched organization {org}",
                self.org
            )))
        }
    }

    /// True when no other time-holding booking of the host overlaps `b` (seat exception
    /// applied with `b`'s own seat flag `shares`).
    fn free(&self, view: &View<'_>, b: &Booking, shares: bool) -> bool {
        if !b.status.holds_time() {
            return true;
        }
        !view.rows().any(|o| {
            let x = &o.booking;
            x.uid != b.uid
                && x.host_user_id == b.host_user_id
                && x.status.holds_time()
                && ms(x.blocked.end()) > ms(b.blocked.start())
                && ms(x.blocked.start()) < ms(b.blocked.end())
                && !(shares
                    && o.shares_seats
                    && x.event_type_id == b.event_type_id
                    && ms(x.start) == ms(b.start))
        })
    }
}

#[async_trait]
impl BookingTx for MemoryBookingTx {
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        self.check_org(event_type.organization_id)?;
        let state = self.store.state();
        let view = View {
            state: &state,
            org: self.org,
            staged: Some(&self.staged),
        };
        slot_inputs(&view, event_type, ranges, now)
    }

    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>, StoreError> {
        let state = self.store.state();
        let view = View {
            state: &state,
            org: self.org,
            staged: Some(&self.staged),
        };
        Ok(view.get(uid).map(|s| s.booking.clone()))
    }

    async fn insert_booking(
        &mut self,
        booking: &Booking,
        shares_seats: bool,
    ) -> Result<(), BookingWriteError> {
        self.check_org(booking.organization_id)?;
        let row = {
            let state = self.store.state();
            require_org(&state, booking.organization_id)?;
            let view = View {
                state: &state,
                org: self.org,
                staged: Some(&self.staged),
            };
            if view.get(booking.uid).is_some() {
                return Err(BookingWriteError::Unknown(anyhow::anyhow!(
                    "booking {} already exists",
                    booking.uid
                )));
            }
            if !self.free(&view, booking, shares_seats) {
                return Err(BookingWriteError::SlotUnavailable);
            }
            StoredBooking {
                booking: booking.clone(),
                shares_seats,
            }
        };
        self.staged.insert(booking.uid, row);
        Ok(())
    }

    async fn update_booking(
        &mut self,
        booking: &Booking,
        expected_version: i64,
    ) -> Result<(), BookingWriteError> {
        self.check_org(booking.organization_id)?;
        let row = {
            let state = self.store.state();
            let view = View {
                state: &state,
                org: self.org,
                staged: Some(&self.staged),
            };
            let stored = match view.get(booking.uid) {
                Some(s) if s.booking.version == expected_version => s,
                _ => return Err(BookingWriteError::VersionConflict),
            };
            // A seat stays a seat: the guard uses the stored row's flag.
            let shares_seats = stored.shares_seats;
            if !self.free(&view, booking, shares_seats) {
                return Err(BookingWriteError::SlotUnavailable);
            }
            StoredBooking {
                booking: booking.clone(),
                shares_seats,
            }
        };
        self.staged.insert(booking.uid, row);
        Ok(())
    }

    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError> {
        self.check_org(message.organization_id)?;
        {
            let state = self.store.state();
            check_new(&state, std::slice::from_ref(message))?;
        }
        if self.outbox.iter().any(|m| m.id == message.id) {
            return Err(StoreError::Unknown(anyhow::anyhow!(
                "outbox message {} already exists",
                message.id
            )));
        }
        self.outbox.push(message.clone());
        Ok(())
    }

    async fn complete_idempotency(
        &mut self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        self.check_org(reserved.key.organization_id)?;
        // Checked now (as the SQL stores' UPDATE … WHERE nonce does) and again at commit.
        if !crate::idempotency::holds(&self.store.state(), reserved) {
            return Err(StoreError::reservation_lost());
        }
        self.completions.push((reserved.clone(), record.clone()));
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let this = *self;
        let mut state = this.store.state();
        // Outbox messages enqueued outside this transaction since `enqueue` may collide.
        check_new(&state, &this.outbox)?;
        // A reservation taken over since `complete_idempotency` fails the whole commit.
        if !this
            .completions
            .iter()
            .all(|(reserved, _)| crate::idempotency::holds(&state, reserved))
        {
            return Err(StoreError::reservation_lost());
        }
        for (uid, row) in this.staged {
            state.bookings.insert((this.org, uid), row);
        }
        insert_checked(&mut state, &this.outbox);
        for (reserved, record) in this.completions {
            crate::idempotency::complete_on(&mut state, &reserved, &record)?;
        }
        Ok(())
    }
}
