//! The booking use cases — create, cancel, reschedule, patch, get and list — composed from the
//! booking rules and only the ports they need ([`BookingService`]).
//!
//! Each write runs in one [`BookingTx`]: re-decide the slot with the same engine that lists
//! slots, write the booking(s), enqueue the outbox message and store the idempotent response,
//! then commit. Any error before commit rolls everything back.

use crate::booking::*;
use crate::event_type::{EventType, EventTypeRef};
use crate::event_type_service::find_event_type;
use crate::ids::{BookingUid, OrganizationId, UserId};
use crate::interval::Interval;
use crate::organization::User;
use crate::pagination::Page;
use crate::ports::*;
use crate::slots::{self, SlotInputs, UnavailableReason};
use crate::validate::{self, Email, FieldErrors};
use jiff::Timestamp;
use std::sync::Arc;

mod errors;

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

/// Finishes an idempotent request inside the write transaction: the key and how to render the
/// replay record from the resulting booking and its host.
pub struct Idempotent<'a> {
    pub key: &'a IdempotencyKey,
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

/// A request to book.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub start: Timestamp,
    /// IANA zone the attendee sees; defaults to the attendee's, then the event type's zone.
    pub timezone: Option<String>,
    pub attendee: Attendee,
    pub guests: Vec<String>,
    pub metadata: Option<Metadata>,
    pub responses: Option<RawJson>,
    pub utm: Utm,
}

impl NewBooking {
    /// Checks the request; specific contract codes first, then every other field.
    pub fn validate(&self) -> Result<(), CreateBookingError> {
        if let Err(m) = Email::parse(&self.attendee.email) {
            return Err(CreateBookingError::AttendeeEmailInvalid(m));
        }
        if self.attendee.sms_opt_in && self.attendee.phone.is_none() {
            return Err(CreateBookingError::AttendeePhoneRequired);
        }
        if let Some(p) = &self.attendee.phone {
            if p.chars().count() > 64 {
                return Err(CreateBookingError::AttendeePhoneInvalid(
                    "must be at most 64 characters".into(),
                ));
            }
            validate::check_phone(p).map_err(CreateBookingError::AttendeePhoneInvalid)?;
        }
        let mut e = FieldErrors::default();
        validate::max_chars(&mut e, "attendee.name", &self.attendee.name, 255);
        for (f, v) in [
            ("attendee.first_name", &self.attendee.first_name),
            ("attendee.last_name", &self.attendee.last_name),
        ] {
            if let Some(v) = v {
                validate::max_chars(&mut e, f, v, 127);
            }
        }
        for (f, v) in [
            ("timezone", &self.timezone),
            ("attendee.timezone", &self.attendee.timezone),
        ] {
            if let Some(z) = v
                && let Err(m) = validate::parse_time_zone(z)
            {
                e.push(f, m);
            }
        }
        if self.guests.len() > MAX_GUESTS {
            e.push("guests", format!("at most {MAX_GUESTS} guests"));
        }
        for (i, g) in self.guests.iter().enumerate() {
            if let Err(m) = Email::parse(g) {
                e.push(format!("guests[{i}]"), m);
            }
        }
        if let Some(m) = &self.metadata {
            m.validate(&mut e);
        }
        for (f, v) in [
            ("utm_source", &self.utm.source),
            ("utm_medium", &self.utm.medium),
            ("utm_campaign", &self.utm.campaign),
        ] {
            if let Some(v) = v {
                validate::max_chars(&mut e, f, v, 255);
            }
        }
        e.finish(()).map_err(CreateBookingError::Invalid)
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

    /// Creates a booking of the event type `event_type` names inside `org`.
    pub async fn create(
        &self,
        org: OrganizationId,
        event_type: &EventTypeRef,
        req: NewBooking,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CreateBookingError> {
        let et = find_event_type(self.event_types.as_ref(), org, event_type)
            .await?
            .ok_or(CreateBookingError::EventTypeNotFound)?;
        self.create_hosted(&et, req, idem).await
    }

    /// Creates a booking of `event_type` (already resolved inside the caller's organization).
    pub async fn create_booking(
        &self,
        event_type: &EventType,
        req: NewBooking,
        idem: Option<Idempotent<'_>>,
    ) -> Result<Booking, CreateBookingError> {
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

    /// The prologue of cancel, reschedule and patch: reads the booking and its event type,
    /// opens the write (hosts: the booking's, plus the event type's when `event_type_hosts`)
    /// and reads the booking again inside it, where it cannot change until commit.
    async fn open_existing<E: WriteError>(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        event_type_hosts: bool,
    ) -> Result<Existing, E> {
        let current = self
            .bookings
            .get_booking(org, uid)
            .await?
            .ok_or(E::NOT_FOUND)?;
        let event_type = self
            .event_types
            .get_event_type(org, current.event_type_id)
            .await?;
        let hosts_of = event_type.as_ref().filter(|_| event_type_hosts);
        let mut write: Write = self
            .open::<E>(
                org,
                current.event_type_id,
                hosts_of,
                Some(current.host_user_id),
            )
            .await?;
        let booking = write.tx.get_booking(uid).await?.ok_or(E::NOT_FOUND)?;
        Ok(Existing {
            write,
            booking,
            event_type,
        })
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
        req.validate()?;
        let org = event_type.organization_id;
        let mut w: Write = self
            .open::<CreateBookingError>(org, event_type.id, Some(event_type), None)
            .await?;
        let now = self.clock.now();
        let (slot, inputs) =
            Self::decide::<CreateBookingError>(&mut w, event_type, req.start, now).await?;
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
        let timezone = req
            .timezone
            .clone()
            .or_else(|| req.attendee.timezone.clone())
            .unwrap_or_else(|| zone.name().to_owned());
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
            attendees: vec![req.attendee],
            guests: req.guests,
            location: event_type.locations.first().map(|l| BookingLocation {
                kind: Some(l.kind.clone()),
                url: None,
                value: l.value.clone(),
            }),
            metadata: req.metadata,
            responses: req.responses,
            utm: req.utm,
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
        w.tx.insert_booking(&booking, event_type.shares_seats())
            .await?;
        Ok(self
            .finish(w, booking, Some(Change::Created(event_type)), idem)
            .await?)
    }

    /// Cancels a booking; cancelling a canceled booking returns it unchanged.
    pub async fn cancel_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        reason: Option<String>,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CancelBookingError> {
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
        {
            return Err(CancelBookingError::ReasonTooLong);
        }
        let Existing {
            mut write,
            mut booking,
            event_type,
        } = self
            .open_existing::<CancelBookingError>(org, uid, false)
            .await?;
        let expected = booking.version;
        let allow = event_type.as_ref().is_none_or(|e| e.allow_cancel);
        let changed = booking.cancel(reason, allow, self.clock.now())?;
        if changed {
            write.tx.update_booking(&booking, expected).await?;
        }
        let change = event_type
            .as_ref()
            .filter(|_| changed)
            .map(Change::Canceled);
        Ok(self.finish(write, booking, change, idem).await?)
    }

    /// Moves a booking: the old one becomes `rescheduled`, a new one (new uid, version 1) holds
    /// the new time. Returns the new booking.
    pub async fn reschedule_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        start: Timestamp,
        timezone: Option<String>,
        reason: Option<String>,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, RescheduleBookingError> {
        let mut e = FieldErrors::default();
        if let Some(r) = &reason {
            validate::max_chars(&mut e, "reason", r, MAX_REASON_CHARS);
        }
        if let Some(z) = &timezone
            && let Err(m) = validate::parse_time_zone(z)
        {
            e.push("timezone", m);
        }
        e.finish(()).map_err(RescheduleBookingError::Invalid)?;
        let Existing {
            mut write,
            booking: mut old,
            event_type,
        } = self
            .open_existing::<RescheduleBookingError>(org, uid, true)
            .await?;
        let Some(event_type) = event_type else {
            return Err(RescheduleRuleError::Disallowed.into());
        };
        let now = self.clock.now();
        old.check_reschedulable(event_type.allow_reschedule, now)?;
        let previous = old.clone();
        let expected = old.version;
        old.mark_rescheduled(reason, now);
        write.tx.update_booking(&old, expected).await?;
        let (slot, _) =
            Self::decide::<RescheduleBookingError>(&mut write, &event_type, start, now).await?;
        let blocked = blocked(&event_type, slot.start).ok_or(UnavailableReason::SlotBusy)?;
        let new = Booking {
            uid: BookingUid(self.ids.new_id()),
            version: 1,
            status: initial_status(&event_type),
            start: slot.start,
            end: slot.end,
            blocked,
            timezone: timezone.unwrap_or_else(|| previous.timezone.clone()),
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

    /// Applies a PATCH when `expected_version` matches.
    pub async fn update_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        patch: &BookingPatch,
        expected_version: i64,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, UpdateBookingError> {
        let Existing {
            mut write,
            mut booking,
            event_type,
        } = self
            .open_existing::<UpdateBookingError>(org, uid, false)
            .await?;
        let stale = |current| UpdateBookingError::VersionConflict { current };
        if booking.version != expected_version {
            return Err(stale(booking.version));
        }
        patch
            .validate(&booking)
            .map_err(UpdateBookingError::Invalid)?;
        let changed = booking.apply_patch(patch, self.clock.now());
        write
            .tx
            .update_booking(&booking, expected_version)
            .await
            .map_err(|e| match e {
                BookingWriteError::VersionConflict => stale(expected_version + 1),
                other => other.into(),
            })?;
        let change = event_type
            .as_ref()
            .map(|et| Change::Updated(et, changed.as_slice()));
        Ok(self.finish(write, booking, change, idem).await?)
    }
}
