//! The booking use cases — create, cancel, reschedule, patch, get and list — composed from the
//! booking rules and only the ports they need ([`BookingService`]).
//!
//! Each write runs in one [`BookingTx`]: re-decide the slot with the same engine that lists
//! slots, write the booking(s), enqueue the outbox message and store the idempotent response,
//! then commit. Any error before commit rolls everything back.

use crate::booking::*;
use crate::event_type::EventType;
use crate::event_type_service::find_event_type;
use crate::ids::{BookingUid, OrganizationId, UserId};
use crate::interval::Interval;
use crate::organization::User;
use crate::pagination::Page;
use crate::ports::*;
use crate::slots::{self, SlotInputs, UnavailableReason};
use jiff::Timestamp;
use std::sync::Arc;

mod decision;
mod errors;

pub use crate::booking_input::{
    AttendeeDraft, BookingDraft, BookingPatch, Cancellation, InputCode, InvalidInput, NewBooking,
    PatchDraft, Reschedule, RescheduleDraft,
};
pub use decision::{DecideBookingError, HostDecision};
use errors::WriteError;
pub use errors::{
    CancelBookingError, CreateBookingError, GetBookingError, ListBookingsError,
    RescheduleBookingError, UpdateBookingError,
};

/// The booking use cases over the ports they need: bookings (reads and the write
/// transaction), event types, the directory (host users), the clock, ids and the outbox
/// payload encoder.
#[derive(Clone)]
pub struct BookingService {
    bookings: Arc<dyn BookingStore>,
    event_types: Arc<dyn EventTypeStore>,
    directory: Arc<dyn DirectoryStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    encoder: Arc<dyn EventEncoder>,
}

/// Finishes an idempotent request inside the write transaction: the reserved key (with its
/// nonce) and how to render the replay record from the resulting booking and its host. When
/// the reservation is no longer the request's (its lease expired and another request took the
/// key over), the write fails with [`crate::ports::ReservationLost`] in its `Unknown` error and
/// nothing is committed.
pub struct Idempotent<'a> {
    pub key: &'a ReservedKey,
    pub respond: &'a (dyn Fn(&Booking, Option<&User>) -> ReplayRecord + Send + Sync),
}

/// A booking with its host user (absent when the user was removed), as every read and write
/// answers.
#[derive(Debug, Clone)]
pub struct HostedBooking {
    pub booking: Booking,
    pub host: Option<User>,
}

/// A page of bookings with the users hosting them.
#[derive(Debug, Clone)]
pub struct BookingPage {
    pub page: Page<Booking>,
    pub hosts: Vec<User>,
}

impl BookingPage {
    /// The host of `b`, when it is still a user.
    pub fn host_of(&self, b: &Booking) -> Option<&User> {
        self.hosts.iter().find(|u| u.id == b.host_user_id)
    }
}

/// What a write changed, for its outbox message (the host is added by
/// [`BookingService::finish`]).
enum Change<'a> {
    Created(&'a EventType),
    Canceled(&'a EventType),
    Updated(&'a EventType, &'a [&'static str]),
    Rescheduled(&'a EventType, &'a Booking),
}

impl<'a> Change<'a> {
    fn event(self, booking: &'a Booking, host: Option<&'a User>) -> DomainEvent<'a> {
        match self {
            Self::Created(event_type) => DomainEvent::BookingCreated {
                booking,
                event_type,
                host,
            },
            Self::Canceled(event_type) => DomainEvent::BookingCanceled {
                booking,
                event_type,
                host,
            },
            Self::Updated(event_type, changed_fields) => DomainEvent::BookingUpdated {
                booking,
                event_type,
                host,
                changed_fields,
            },
            Self::Rescheduled(event_type, previous) => DomainEvent::BookingRescheduled {
                booking,
                previous,
                event_type,
                host,
            },
        }
    }
}

/// An open booking write: its transaction and the users who may host its result, read before
/// it opened.
struct Write {
    org: OrganizationId,
    tx: Box<dyn BookingTx>,
    hosts: Vec<User>,
}

/// An open write to an existing booking: the booking as read inside it, and its event type
/// (absent when deleted).
struct Existing {
    write: Write,
    booking: Booking,
    event_type: Option<EventType>,
}

/// The status a new booking of `event_type` starts in.
fn initial_status(event_type: &EventType) -> BookingStatus {
    if event_type.requires_confirmation {
        BookingStatus::Pending
    } else {
        BookingStatus::Confirmed
    }
}

/// The time a booking of `event_type` at `start` blocks, buffers included.
fn blocked(event_type: &EventType, start: Timestamp) -> Option<Interval> {
    Booking::blocked_interval(
        start,
        event_type.duration(),
        event_type.buffer_before(),
        event_type.buffer_after(),
    )
}

impl BookingService {
    /// A service over its ports (one [`Storage`] may serve all three store ports).
    pub fn new(
        bookings: Arc<dyn BookingStore>,
        event_types: Arc<dyn EventTypeStore>,
        directory: Arc<dyn DirectoryStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        encoder: Arc<dyn EventEncoder>,
    ) -> Self {
        Self {
            bookings,
            event_types,
            directory,
            clock,
            ids,
            encoder,
        }
    }

    /// A service whose three store ports are one [`Storage`].
    pub fn over(
        store: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        encoder: Arc<dyn EventEncoder>,
    ) -> Self {
        Self::new(store.clone(), store.clone(), store, clock, ids, encoder)
    }

    /// Reads one booking with its host.
    pub async fn get(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<HostedBooking, GetBookingError> {
        let booking = self
            .bookings
            .get_booking(org, uid)
            .await?
            .ok_or(GetBookingError::NotFound)?;
        let host = self.directory.get_user(org, booking.host_user_id).await?;
        Ok(HostedBooking { booking, host })
    }

    /// Lists bookings by `query`, with the users hosting them.
    pub async fn list(
        &self,
        org: OrganizationId,
        query: &BookingQuery,
    ) -> Result<BookingPage, ListBookingsError> {
        let page = self.bookings.list_bookings(org, query).await?;
        let mut ids: Vec<UserId> = page.items.iter().map(|b| b.host_user_id).collect();
        ids.sort();
        ids.dedup();
        let mut hosts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = self.directory.get_user(org, id).await? {
                hosts.push(u);
            }
        }
        Ok(BookingPage { page, hosts })
    }

    /// Creates a booking of the event type `draft.event_type` names inside `org`. The draft
    /// is checked as a whole (every failing field at once, the answers against the event
    /// type's questions); a draft naming an unknown event type is `EventTypeNotFound` unless
    /// it fails those checks.
    pub async fn create(
        &self,
        org: OrganizationId,
        draft: BookingDraft,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CreateBookingError> {
        let et = match &draft.event_type {
            Some(r) => find_event_type(self.event_types.as_ref(), org, r).await?,
            None => None,
        };
        let req = NewBooking::check(draft, et.as_ref().map(|e| e.questions.as_slice()))?;
        let et = et.ok_or(CreateBookingError::EventTypeNotFound)?;
        self.create_hosted(&et, req, idem).await
    }

    /// Creates a booking of `event_type` (already resolved inside the caller's organization;
    /// `draft.event_type` is not read).
    pub async fn create_booking(
        &self,
        event_type: &EventType,
        draft: BookingDraft,
        idem: Option<Idempotent<'_>>,
    ) -> Result<Booking, CreateBookingError> {
        let req = NewBooking::new(draft, event_type)?;
        Ok(self.create_hosted(event_type, req, idem).await?.booking)
    }

    /// The users who may host `event_type` (plus `extra`), read BEFORE a transaction opens:
    /// a read through the pool while a `BookingTx` holds a connection (and the event type's
    /// lock) could wait for a connection that the lock's other waiters hold.
    async fn host_users(
        &self,
        org: OrganizationId,
        event_type: Option<&EventType>,
        extra: Option<UserId>,
    ) -> Result<Vec<User>, StoreError> {
        let mut ids: Vec<UserId> = event_type
            .map(|e| e.hosts.iter().map(|h| h.user_id).collect())
            .unwrap_or_default();
        ids.extend(extra);
        ids.sort();
        ids.dedup();
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = self.directory.get_user(org, id).await? {
                users.push(u);
            }
        }
        Ok(users)
    }

    fn outbox(&self, org: OrganizationId, event: &DomainEvent<'_>) -> OutboxMessage {
        OutboxMessage {
            id: self.ids.new_id().into(),
            organization_id: org,
            event: event.name().to_owned(),
            payload: self.encoder.encode(event),
            created_at: self.clock.now(),
        }
    }

    /// Opens a write on `event_type_id`'s bookings after reading the host users.
    async fn open<E: From<BookingWriteError> + From<StoreError>>(
        &self,
        org: OrganizationId,
        event_type_id: crate::ids::EventTypeId,
        hosts_of: Option<&EventType>,
        extra_host: Option<UserId>,
    ) -> Result<Write, E> {
        let hosts = self.host_users(org, hosts_of, extra_host).await?;
        let tx = self.bookings.begin(org, event_type_id).await?;
        Ok(Write { org, tx, hosts })
    }

    /// The prologue of cancel, reschedule and patch: reads the booking (the one read of it,
    /// unless another write gets there first: see [`Self::update_existing`]) and its event type,
    /// and opens the write (hosts: the booking's, plus the event type's when
    /// `event_type_hosts`).
    async fn open_existing<E: WriteError>(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        event_type_hosts: bool,
    ) -> Result<Existing, E> {
        let booking = self
            .bookings
            .get_booking(org, uid)
            .await?
            .ok_or(E::NOT_FOUND)?;
        let event_type = self
            .event_types
            .get_event_type(org, booking.event_type_id)
            .await?;
        let hosts_of = event_type.as_ref().filter(|_| event_type_hosts);
        let write: Write = self
            .open::<E>(
                org,
                booking.event_type_id,
                hosts_of,
                Some(booking.host_user_id),
            )
            .await?;
        Ok(Existing {
            write,
            booking,
            event_type,
        })
    }

    /// Decides the change of an existing booking from `read` (`change` answers the booking to
    /// write, or `None` to write nothing) and writes it with the version check. When another
    /// write changed the booking since it was read (`VersionConflict`), it is read again inside
    /// this write — under the write's lock it cannot change any more — and `change` decides
    /// again: a write answers as if it had read the booking under the lock, with one read in
    /// the common case. Returns the booking the change was decided on, the written one and
    /// what `change` added.
    async fn update_existing<E: WriteError, T>(
        w: &mut Write,
        read: Booking,
        mut change: impl FnMut(&Booking) -> Result<(Option<Booking>, T), E>,
    ) -> Result<(Booking, Option<Booking>, T), E> {
        let mut current = read;
        let mut reread = false;
        loop {
            let (next, extra) = change(&current)?;
            let Some(next) = next else {
                return Ok((current, None, extra));
            };
            match w.tx.update_booking(&next, current.version).await {
                Ok(()) => return Ok((current, Some(next), extra)),
                Err(BookingWriteError::VersionConflict) if !reread => {
                    reread = true;
                    current = w.tx.get_booking(current.uid).await?.ok_or(E::NOT_FOUND)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Re-decides `start` of `event_type` inside the write, with the engine that lists slots.
    async fn decide<E: From<UnavailableReason> + From<StoreError>>(
        w: &mut Write,
        event_type: &EventType,
        start: Timestamp,
        now: Timestamp,
    ) -> Result<(slots::Slot, SlotInputs), E> {
        let window = slots::one_instant(start).ok_or(UnavailableReason::SlotBusy)?;
        let inputs =
            w.tx.slot_inputs(event_type, slots::input_ranges(event_type, window), now)
                .await?;
        let slot = slots::check_slot(&inputs, start)?;
        Ok((slot, inputs))
    }

    /// The epilogue of every write: the outbox message of `change`, the replay record of
    /// `idem`, commit; answers `booking` with its host.
    async fn finish(
        &self,
        mut w: Write,
        booking: Booking,
        change: Option<Change<'_>>,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, StoreError> {
        let host = w
            .hosts
            .iter()
            .position(|u| u.id == booking.host_user_id)
            .map(|i| w.hosts.swap_remove(i));
        if let Some(change) = change {
            let msg = self.outbox(w.org, &change.event(&booking, host.as_ref()));
            w.tx.enqueue(&msg).await?;
        }
        if let Some(i) = idem {
            let record = (i.respond)(&booking, host.as_ref());
            w.tx.complete_idempotency(i.key, &record).await?;
        }
        w.tx.commit().await?;
        Ok(HostedBooking { booking, host })
    }

    async fn create_hosted(
        &self,
        event_type: &EventType,
        req: NewBooking,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CreateBookingError> {
        let org = event_type.organization_id;
        let mut w: Write = self
            .open::<CreateBookingError>(org, event_type.id, Some(event_type), None)
            .await?;
        let now = self.clock.now();
        let (slot, inputs) =
            Self::decide::<CreateBookingError>(&mut w, event_type, req.start(), now).await?;
        let host_user_id = slot
            .host_user_id
            .or_else(|| event_type.hosts.first().map(|h| h.user_id))
            .ok_or_else(|| anyhow::anyhow!("event type has no host"))?;
        let blocked = blocked(event_type, slot.start).ok_or(UnavailableReason::SlotBusy)?;
        let zone = event_type.zone(|id| {
            inputs
                .hosts
                .iter()
                .map(|h| &h.schedule)
                .find(|s| s.id == id)
                .map(|s| &s.zone)
        });
        let timezone = req.zone().unwrap_or(&zone).name().to_owned();
        let parts = req.into_parts();
        let booking = Booking {
            uid: BookingUid(self.ids.new_id()),
            organization_id: org,
            version: 1,
            event_type_id: event_type.id,
            event_type_slug: Some(event_type.slug.clone()),
            title: Some(event_type.title.clone()),
            status: initial_status(event_type),
            start: slot.start,
            end: slot.end,
            blocked,
            timezone,
            host_user_id,
            attendees: vec![parts.attendee],
            guests: parts.guests,
            location: event_type.locations.first().map(|l| BookingLocation {
                kind: Some(l.kind.clone()),
                url: None,
                value: l.value.clone(),
            }),
            metadata: parts.metadata,
            responses: parts.responses,
            utm: parts.utm,
            calendar_sync_status: CalendarSyncStatus::NotApplicable,
            calendar_event_id: None,
            rescheduled_from_uid: None,
            reschedule_generation: 0,
            cancelled_at: None,
            cancellation_reason: None,
            no_show_at: None,
            no_show_reason: None,
            rescheduled_at: None,
            created_at: now,
            updated_at: now,
        };
        // One unit: insert (overlap-guarded), outbox message, replay record, commit.
        let Write { org, tx, mut hosts } = w;
        let host = hosts
            .iter()
            .position(|u| u.id == booking.host_user_id)
            .map(|i| hosts.swap_remove(i));
        let message = self.outbox(
            org,
            &Change::Created(event_type).event(&booking, host.as_ref()),
        );
        let record = idem.as_ref().map(|i| (i.respond)(&booking, host.as_ref()));
        tx.commit_new_booking(NewBookingWrite {
            booking: &booking,
            shares_seats: event_type.shares_seats(),
            message: &message,
            replay: idem.as_ref().map(|i| i.key).zip(record.as_ref()),
        })
        .await?;
        Ok(HostedBooking { booking, host })
    }

    /// Cancels a booking; cancelling a canceled booking returns it unchanged.
    pub async fn cancel_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        cancellation: Cancellation,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CancelBookingError> {
        let Existing {
            mut write,
            booking,
            event_type,
        } = self
            .open_existing::<CancelBookingError>(org, uid, false)
            .await?;
        let allow = event_type.as_ref().is_none_or(|e| e.allow_cancel);
        let now = self.clock.now();
        let reason = cancellation.into_reason();
        let (current, canceled, ()) = Self::update_existing(&mut write, booking, |b| {
            let mut next = b.clone();
            let changed = next.cancel(reason.clone(), allow, now)?;
            Ok::<_, CancelBookingError>((changed.then_some(next), ()))
        })
        .await?;
        let change = event_type
            .as_ref()
            .filter(|_| canceled.is_some())
            .map(Change::Canceled);
        let booking = canceled.unwrap_or(current);
        Ok(self.finish(write, booking, change, idem).await?)
    }

    /// Moves a booking: the old one becomes `rescheduled`, a new one (new uid, version 1) holds
    /// the new time. Returns the new booking.
    pub async fn reschedule_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        to: Reschedule,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, RescheduleBookingError> {
        let Existing {
            mut write,
            booking,
            event_type,
        } = self
            .open_existing::<RescheduleBookingError>(org, uid, true)
            .await?;
        let Some(event_type) = event_type else {
            return Err(RescheduleRuleError::Disallowed.into());
        };
        let now = self.clock.now();
        let reason = to.reason().map(str::to_owned);
        let (previous, _, ()) = Self::update_existing(&mut write, booking, |b| {
            b.check_reschedulable(event_type.allow_reschedule, now)?;
            let mut old = b.clone();
            old.mark_rescheduled(reason.clone(), now);
            Ok::<_, RescheduleBookingError>((Some(old), ()))
        })
        .await?;
        let (slot, _) =
            Self::decide::<RescheduleBookingError>(&mut write, &event_type, to.start(), now)
                .await?;
        let blocked = blocked(&event_type, slot.start).ok_or(UnavailableReason::SlotBusy)?;
        let new = Booking {
            uid: BookingUid(self.ids.new_id()),
            version: 1,
            status: initial_status(&event_type),
            start: slot.start,
            end: slot.end,
            blocked,
            timezone: to
                .zone()
                .map_or_else(|| previous.timezone.clone(), |z| z.name().to_owned()),
            host_user_id: slot.host_user_id.unwrap_or(previous.host_user_id),
            rescheduled_from_uid: Some(previous.uid),
            reschedule_generation: previous.reschedule_generation + 1,
            cancelled_at: None,
            cancellation_reason: None,
            rescheduled_at: None,
            created_at: now,
            updated_at: now,
            ..previous.clone()
        };
        write
            .tx
            .insert_booking(&new, event_type.shares_seats())
            .await?;
        let change = Change::Rescheduled(&event_type, &previous);
        Ok(self.finish(write, new, Some(change), idem).await?)
    }

    /// Applies a PATCH when `expected_version` matches. The draft is checked against the
    /// booking (metadata limits after the merge) and its event type's questions (`responses`).
    pub async fn update_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        draft: PatchDraft,
        expected_version: i64,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, UpdateBookingError> {
        let Existing {
            mut write,
            booking,
            event_type,
        } = self
            .open_existing::<UpdateBookingError>(org, uid, false)
            .await?;
        let now = self.clock.now();
        let (_, patched, changed) = Self::update_existing(&mut write, booking, |b| {
            if b.version != expected_version {
                return Err(UpdateBookingError::VersionConflict { current: b.version });
            }
            let patch = BookingPatch::new(draft.clone(), b, event_type.as_ref())?;
            let mut next = b.clone();
            let changed = next.apply_patch(&patch, now);
            Ok((Some(next), changed))
        })
        .await?;
        let booking = patched.ok_or_else(|| anyhow::anyhow!("a patch always writes"))?;
        let change = event_type
            .as_ref()
            .map(|et| Change::Updated(et, changed.as_slice()));
        Ok(self.finish(write, booking, change, idem).await?)
    }
}
