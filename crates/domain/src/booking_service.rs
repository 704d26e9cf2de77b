//! The booking use cases — create, cancel, reschedule, patch, get and list — composed from the
//! booking rules and only the ports they need ([`BookingService`]).
//!
//! Each write runs in one [`BookingTx`]: re-decide the slot with the same engine that lists
//! slots, write the booking(s), enqueue the outbox message and store the idempotent response,
//! then commit. Any error before commit rolls everything back.

use crate::booking::*;
use crate::event_type::{EventType, EventTypeRef, SchedulingType};
use crate::event_type_service::find_event_type;
use crate::ids::{BookingUid, OrganizationId, UserId};
use crate::interval::Interval;
use crate::organization::User;
use crate::pagination::Page;
use crate::ports::*;
use crate::slots::{self, UnavailableReason};
use crate::validate::{self, Email, FieldErrors};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

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

/// Why a booking could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetBookingError {
    #[error("booking not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why bookings could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListBookingsError {
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
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

/// Why a booking could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateBookingError {
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("attendee.email {0}")]
    AttendeeEmailInvalid(String),
    #[error("attendee.sms_opt_in requires attendee.phone")]
    AttendeePhoneRequired,
    #[error("attendee.phone {0}")]
    AttendeePhoneInvalid(String),
    #[error("event type not found")]
    EventTypeNotFound,
    #[error("This event type is not active")]
    EventTypeInactive,
    #[error("That time is in the past")]
    SlotInPast,
    #[error("That time is no longer available")]
    SlotUnavailable { reason: UnavailableReason },
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a cancel failed.
#[derive(Debug, thiserror::Error)]
pub enum CancelBookingError {
    #[error("booking not found")]
    NotFound,
    #[error("reason must be at most {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error(transparent)]
    Rule(#[from] CancelRuleError),
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error("the booking changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a reschedule failed.
#[derive(Debug, thiserror::Error)]
pub enum RescheduleBookingError {
    #[error("booking not found")]
    NotFound,
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Rule(#[from] RescheduleRuleError),
    #[error("This event type is not active")]
    EventTypeInactive,
    #[error("That time is in the past")]
    SlotInPast,
    #[error("That time is no longer available")]
    SlotUnavailable { reason: UnavailableReason },
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error("the booking changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a PATCH failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateBookingError {
    #[error("booking not found")]
    NotFound,
    #[error("The If-Match version does not match the current booking version")]
    VersionConflict { current: i64 },
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

fn unknown(e: StoreError) -> anyhow::Error {
    let StoreError::Unknown(e) = e;
    e
}

fn one_instant(start: Timestamp) -> Option<Interval> {
    Interval::new(
        start,
        start.checked_add(SignedDuration::from_millis(1)).ok()?,
    )
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

crate::event_type_service::from_store_error!(
    CreateBookingError,
    CancelBookingError,
    RescheduleBookingError,
    UpdateBookingError,
    GetBookingError,
    ListBookingsError
);

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
        extra: Option<crate::ids::UserId>,
    ) -> Result<Vec<User>, anyhow::Error> {
        let mut ids: Vec<crate::ids::UserId> = event_type
            .map(|e| e.hosts.iter().map(|h| h.user_id).collect())
            .unwrap_or_default();
        ids.extend(extra);
        ids.sort();
        ids.dedup();
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = self.directory.get_user(org, id).await.map_err(unknown)? {
                users.push(u);
            }
        }
        Ok(users)
    }

    async fn event_type_of(
        &self,
        org: OrganizationId,
        b: &Booking,
    ) -> Result<Option<EventType>, anyhow::Error> {
        self.event_types
            .get_event_type(org, b.event_type_id)
            .await
            .map_err(unknown)
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

    async fn create_hosted(
        &self,
        event_type: &EventType,
        req: NewBooking,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, CreateBookingError> {
        req.validate()?;
        let org = event_type.organization_id;
        let hosts = self.host_users(org, Some(event_type), None).await?;
        let window = one_instant(req.start).ok_or(CreateBookingError::SlotUnavailable {
            reason: UnavailableReason::SlotBusy,
        })?;
        let mut tx = self
            .bookings
            .begin(org, event_type.id)
            .await
            .map_err(|e| match e {
                BookingWriteError::LockTimeout => CreateBookingError::LockTimeout,
                other => CreateBookingError::Unknown(other.into()),
            })?;
        let now = self.clock.now();
        let inputs = tx
            .slot_inputs(event_type, window, now)
            .await
            .map_err(unknown)?;
        let slot = slots::check_slot(&inputs, req.start).map_err(|r| match r {
            UnavailableReason::EventTypeInactive => CreateBookingError::EventTypeInactive,
            UnavailableReason::InPast => CreateBookingError::SlotInPast,
            reason => CreateBookingError::SlotUnavailable { reason },
        })?;
        let host_user_id = slot
            .host_user_id
            .or_else(|| event_type.hosts.first().map(|h| h.user_id));
        let host_user_id = host_user_id.ok_or_else(|| {
            CreateBookingError::Unknown(anyhow::anyhow!("event type has no host"))
        })?;
        let blocked = Booking::blocked_interval(
            slot.start,
            event_type.duration(),
            event_type.buffer_before(),
            event_type.buffer_after(),
        )
        .ok_or(CreateBookingError::SlotUnavailable {
            reason: UnavailableReason::SlotBusy,
        })?;
        let host_zone = inputs
            .hosts
            .first()
            .map(|h| h.schedule.zone.name().to_owned());
        let timezone = req
            .timezone
            .clone()
            .or_else(|| req.attendee.timezone.clone())
            .or(host_zone)
            .unwrap_or_else(|| "UTC".into());
        let booking = Booking {
            uid: BookingUid(self.ids.new_id()),
            organization_id: org,
            version: 1,
            event_type_id: event_type.id,
            event_type_slug: Some(event_type.slug.clone()),
            title: Some(event_type.title.clone()),
            status: if event_type.requires_confirmation {
                BookingStatus::Pending
            } else {
                BookingStatus::Confirmed
            },
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
        tx.insert_booking(
            &booking,
            event_type.scheduling_type == SchedulingType::Group,
        )
        .await
        .map_err(|e| match e {
            BookingWriteError::SlotUnavailable => CreateBookingError::SlotUnavailable {
                reason: UnavailableReason::SlotBusy,
            },
            BookingWriteError::LockTimeout => CreateBookingError::LockTimeout,
            other => CreateBookingError::Unknown(other.into()),
        })?;
        let host = hosts.iter().find(|u| u.id == booking.host_user_id);
        let msg = self.outbox(
            org,
            &DomainEvent::BookingCreated {
                booking: &booking,
                event_type,
                host,
            },
        );
        tx.enqueue(&msg).await.map_err(unknown)?;
        let host = hosts.into_iter().find(|u| u.id == booking.host_user_id);
        if let Some(i) = idem {
            tx.complete_idempotency(i.key, &(i.respond)(&booking, host.as_ref()))
                .await
                .map_err(unknown)?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(HostedBooking { booking, host })
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
        let current = self
            .bookings
            .get_booking(org, uid)
            .await
            .map_err(unknown)?
            .ok_or(CancelBookingError::NotFound)?;
        let event_type = self.event_type_of(org, &current).await?;
        let hosts = self
            .host_users(org, None, Some(current.host_user_id))
            .await?;
        let mut tx = self
            .bookings
            .begin(org, current.event_type_id)
            .await
            .map_err(|e| match e {
                BookingWriteError::LockTimeout => CancelBookingError::LockTimeout,
                other => CancelBookingError::Unknown(other.into()),
            })?;
        let mut booking = tx
            .get_booking(uid)
            .await
            .map_err(unknown)?
            .ok_or(CancelBookingError::NotFound)?;
        let expected = booking.version;
        let allow = event_type.as_ref().is_none_or(|e| e.allow_cancel);
        let changed = booking.cancel(reason, allow, self.clock.now())?;
        if changed {
            tx.update_booking(&booking, expected)
                .await
                .map_err(|e| match e {
                    BookingWriteError::VersionConflict => CancelBookingError::Conflict,
                    other => CancelBookingError::Unknown(other.into()),
                })?;
            if let Some(et) = &event_type {
                let host = hosts.iter().find(|u| u.id == booking.host_user_id);
                let msg = self.outbox(
                    org,
                    &DomainEvent::BookingCanceled {
                        booking: &booking,
                        event_type: et,
                        host,
                    },
                );
                tx.enqueue(&msg).await.map_err(unknown)?;
            }
        }
        let host = hosts.into_iter().find(|u| u.id == booking.host_user_id);
        if let Some(i) = idem {
            tx.complete_idempotency(i.key, &(i.respond)(&booking, host.as_ref()))
                .await
                .map_err(unknown)?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(HostedBooking { booking, host })
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
        let current = self
            .bookings
            .get_booking(org, uid)
            .await
            .map_err(unknown)?
            .ok_or(RescheduleBookingError::NotFound)?;
        let Some(event_type) = self.event_type_of(org, &current).await? else {
            return Err(RescheduleBookingError::Rule(
                RescheduleRuleError::Disallowed,
            ));
        };
        let hosts = self
            .host_users(org, Some(&event_type), Some(current.host_user_id))
            .await?;
        let mut tx = self
            .bookings
            .begin(org, current.event_type_id)
            .await
            .map_err(|e| match e {
                BookingWriteError::LockTimeout => RescheduleBookingError::LockTimeout,
                other => RescheduleBookingError::Unknown(other.into()),
            })?;
        let now = self.clock.now();
        let mut old = tx
            .get_booking(uid)
            .await
            .map_err(unknown)?
            .ok_or(RescheduleBookingError::NotFound)?;
        old.check_reschedulable(event_type.allow_reschedule, now)?;
        let previous = old.clone();
        let expected = old.version;
        old.mark_rescheduled(reason, now);
        tx.update_booking(&old, expected)
            .await
            .map_err(|e| match e {
                BookingWriteError::VersionConflict => RescheduleBookingError::Conflict,
                other => RescheduleBookingError::Unknown(other.into()),
            })?;
        let window = one_instant(start).ok_or(RescheduleBookingError::SlotUnavailable {
            reason: UnavailableReason::SlotBusy,
        })?;
        let inputs = tx
            .slot_inputs(&event_type, window, now)
            .await
            .map_err(unknown)?;
        let slot = slots::check_slot(&inputs, start).map_err(|r| match r {
            UnavailableReason::EventTypeInactive => RescheduleBookingError::EventTypeInactive,
            UnavailableReason::InPast => RescheduleBookingError::SlotInPast,
            reason => RescheduleBookingError::SlotUnavailable { reason },
        })?;
        let blocked = Booking::blocked_interval(
            slot.start,
            event_type.duration(),
            event_type.buffer_before(),
            event_type.buffer_after(),
        )
        .ok_or(RescheduleBookingError::SlotUnavailable {
            reason: UnavailableReason::SlotBusy,
        })?;
        let new = Booking {
            uid: BookingUid(self.ids.new_id()),
            version: 1,
            status: if event_type.requires_confirmation {
                BookingStatus::Pending
            } else {
                BookingStatus::Confirmed
            },
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
        tx.insert_booking(&new, event_type.scheduling_type == SchedulingType::Group)
            .await
            .map_err(|e| match e {
                BookingWriteError::SlotUnavailable => RescheduleBookingError::SlotUnavailable {
                    reason: UnavailableReason::SlotBusy,
                },
                BookingWriteError::LockTimeout => RescheduleBookingError::LockTimeout,
                other => RescheduleBookingError::Unknown(other.into()),
            })?;
        let host = hosts.iter().find(|u| u.id == new.host_user_id);
        let msg = self.outbox(
            org,
            &DomainEvent::BookingRescheduled {
                booking: &new,
                previous: &previous,
                event_type: &event_type,
                host,
            },
        );
        tx.enqueue(&msg).await.map_err(unknown)?;
        let host = hosts.into_iter().find(|u| u.id == new.host_user_id);
        if let Some(i) = idem {
            tx.complete_idempotency(i.key, &(i.respond)(&new, host.as_ref()))
                .await
                .map_err(unknown)?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(HostedBooking { booking: new, host })
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
        let current = self
            .bookings
            .get_booking(org, uid)
            .await
            .map_err(unknown)?
            .ok_or(UpdateBookingError::NotFound)?;
        let event_type = self.event_type_of(org, &current).await?;
        let hosts = self
            .host_users(org, None, Some(current.host_user_id))
            .await?;
        let mut tx = self
            .bookings
            .begin(org, current.event_type_id)
            .await
            .map_err(|e| match e {
                BookingWriteError::LockTimeout => UpdateBookingError::LockTimeout,
                other => UpdateBookingError::Unknown(other.into()),
            })?;
        let mut booking = tx
            .get_booking(uid)
            .await
            .map_err(unknown)?
            .ok_or(UpdateBookingError::NotFound)?;
        if booking.version != expected_version {
            return Err(UpdateBookingError::VersionConflict {
                current: booking.version,
            });
        }
        patch
            .validate(&booking)
            .map_err(UpdateBookingError::Invalid)?;
        let changed = booking.apply_patch(patch, self.clock.now());
        tx.update_booking(&booking, expected_version)
            .await
            .map_err(|e| match e {
                BookingWriteError::VersionConflict => UpdateBookingError::VersionConflict {
                    current: expected_version + 1,
                },
                other => UpdateBookingError::Unknown(other.into()),
            })?;
        if let Some(et) = &event_type {
            let host = hosts.iter().find(|u| u.id == booking.host_user_id);
            let msg = self.outbox(
                org,
                &DomainEvent::BookingUpdated {
                    booking: &booking,
                    event_type: et,
                    host,
                    changed_fields: &changed,
                },
            );
            tx.enqueue(&msg).await.map_err(unknown)?;
        }
        let host = hosts.into_iter().find(|u| u.id == booking.host_user_id);
        if let Some(i) = idem {
            tx.complete_idempotency(i.key, &(i.respond)(&booking, host.as_ref()))
                .await
                .map_err(unknown)?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(HostedBooking { booking, host })
    }
}
