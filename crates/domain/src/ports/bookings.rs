//! Bookings and the booking unit of work.

use super::{OutboxMessage, ReplayRecord, ReservedKey, StoreError};
use crate::booking::{Booking, BookingStatus};
use crate::event_type::{EventType, Host};
use crate::ids::*;
use crate::pagination::{Page, PageRequest};
use crate::slots::{InputRanges, SlotInputs};
use async_trait::async_trait;
use jiff::Timestamp;

impl StoreError {
    /// What [`BookingStore::slot_inputs`] answers when a host's schedule does not exist (a
    /// missing schedule is an error, never an empty availability).
    pub fn missing_host_schedule(event_type: &EventType, host: &Host) -> Self {
        StoreError::Unknown(anyhow::anyhow!(
            "schedule {} of host {} of event type {} does not exist",
            host.schedule_id,
            host.user_id,
            event_type.id
        ))
    }
}

/// Sort orders of `GET /v1/bookings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BookingSort {
    #[default]
    StartAtDesc,
    StartAtAsc,
    CreatedAtDesc,
    CreatedAtAsc,
    UpdatedAtAsc,
    UpdatedAtDesc,
}

impl BookingSort {
    pub const ALL: [BookingSort; 6] = [
        Self::StartAtDesc,
        Self::StartAtAsc,
        Self::CreatedAtDesc,
        Self::CreatedAtAsc,
        Self::UpdatedAtAsc,
        Self::UpdatedAtDesc,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::StartAtDesc => "start_at_desc",
            Self::StartAtAsc => "start_at_asc",
            Self::CreatedAtDesc => "created_at_desc",
            Self::CreatedAtAsc => "created_at_asc",
            Self::UpdatedAtAsc => "updated_at_asc",
            Self::UpdatedAtDesc => "updated_at_desc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Filters of `GET /v1/bookings` (§3.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingQuery {
    pub event_type_id: Option<EventTypeId>,
    /// Any of these hosts; empty = all.
    pub host_user_ids: Vec<UserId>,
    /// Exact, case-sensitive match on any attendee's e-mail.
    pub attendee_email: Option<String>,
    /// Any of these statuses; empty = all (subject to `include_cancelled`).
    pub statuses: Vec<BookingStatus>,
    /// Inclusive lower bound on `start`.
    pub start_from: Option<Timestamp>,
    /// Inclusive upper bound on `start` (§6.1.9).
    pub start_to: Option<Timestamp>,
    /// `updated_at >= updated_since`.
    pub updated_since: Option<Timestamp>,
    /// Only used when `statuses` is empty: false excludes canceled bookings.
    pub include_cancelled: bool,
    pub sort: BookingSort,
    pub page: PageRequest,
}

/// Why a booking write could not start or a booking row could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BookingWriteError {
    /// Another booking of the host holds overlapping time (constraint `bookings_no_overlap`).
    #[error("That time is no longer available")]
    SlotUnavailable,
    /// The slot lock could not be taken in time; transient, retry with the same key.
    #[error("could not take the slot lock in time")]
    LockTimeout,
    /// The booking changed since it was read (`version` differs).
    #[error("version conflict")]
    VersionConflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl From<StoreError> for BookingWriteError {
    fn from(e: StoreError) -> Self {
        let StoreError::Unknown(e) = e;
        BookingWriteError::Unknown(e)
    }
}

/// Bookings.
#[async_trait]
pub trait BookingStore: Send + Sync {
    async fn get_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<Booking>, StoreError>;
    async fn list_bookings(
        &self,
        org: OrganizationId,
        query: &BookingQuery,
    ) -> Result<Page<Booking>, StoreError>;
    /// What the slot engine needs for `event_type` over the `ranges` the domain decided
    /// ([`crate::slots::input_ranges`] of a window): the hosts' schedules, their time-holding
    /// bookings whose blocked time overlaps `ranges.busy` and, when `ranges.counted` is set, the
    /// event type's time-holding bookings starting in it. A read outside any transaction.
    async fn slot_inputs(
        &self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError>;
    /// Opens a booking write for one organization. The implementation serialises writers so
    /// that what [`BookingTx::slot_inputs`] returns stays true until commit for this event type
    /// (SQLite: `BEGIN IMMEDIATE`; Postgres: a transaction-scoped advisory lock on the event type)
    /// and guarantees that no two time-holding bookings of one host overlap across event types
    /// (Postgres: exclusion constraint; SQLite: the overlap check in `insert_booking`).
    async fn begin(
        &self,
        org: OrganizationId,
        event_type: EventTypeId,
    ) -> Result<Box<dyn BookingTx>, BookingWriteError>;
}

/// One booking write in progress. Dropping it without [`BookingTx::commit`] rolls everything back.
#[async_trait]
pub trait BookingTx: Send {
    /// As [`BookingStore::slot_inputs`], inside this transaction (sees its own writes).
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError>;
    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>, StoreError>;
    /// Inserts a booking. Fails with `SlotUnavailable` when a time-holding booking of the same
    /// host overlaps `booking.blocked`, except seats of the same group slot (same event type and
    /// start) when `shares_seats` is true.
    async fn insert_booking(
        &mut self,
        booking: &Booking,
        shares_seats: bool,
    ) -> Result<(), BookingWriteError>;
    /// Writes `booking` (version already bumped) only if the stored version is
    /// `expected_version`, else `VersionConflict`.
    async fn update_booking(
        &mut self,
        booking: &Booking,
        expected_version: i64,
    ) -> Result<(), BookingWriteError>;
    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError>;
    /// Stores the replay record of a reserved idempotency key in this transaction, only if
    /// `reserved` is still the unfinished reservation of its key (same nonce). Otherwise
    /// (the lease expired and another request took the key over, or it was released) it fails
    /// with [`StoreError::reservation_lost`] and the caller must not commit: a late request
    /// never overwrites another's record, nor commits its booking without its replay record.
    async fn complete_idempotency(
        &mut self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Writes a new booking as one unit and commits: [`BookingTx::insert_booking`] (same
    /// overlap guard, `SlotUnavailable` when refused), [`BookingTx::enqueue`] of its message,
    /// [`BookingTx::complete_idempotency`] of its replay record when given, then
    /// [`BookingTx::commit`]. Any failure commits nothing of it. Stores do it in as few round
    /// trips as they can (SQLite: one batch on the connection; Postgres: one statement); the
    /// default runs the steps one by one.
    async fn commit_new_booking(
        mut self: Box<Self>,
        write: NewBookingWrite<'_>,
    ) -> Result<(), BookingWriteError> {
        self.insert_booking(write.booking, write.shares_seats)
            .await?;
        self.enqueue(write.message).await?;
        if let Some((reserved, record)) = write.replay {
            self.complete_idempotency(reserved, record).await?;
        }
        self.commit().await?;
        Ok(())
    }
}

/// What [`BookingTx::commit_new_booking`] writes.
#[derive(Debug, Clone, Copy)]
pub struct NewBookingWrite<'a> {
    pub booking: &'a Booking,
    /// As [`BookingTx::insert_booking`]'s `shares_seats`.
    pub shares_seats: bool,
    /// The booking's outbox message.
    pub message: &'a OutboxMessage,
    /// The reserved idempotency key and its replay record, for an idempotent request. A stale
    /// reservation (nonce no longer stored) fails the whole unit with
    /// [`StoreError::reservation_lost`], as [`BookingTx::complete_idempotency`].
    pub replay: Option<(&'a ReservedKey, &'a ReplayRecord)>,
}
