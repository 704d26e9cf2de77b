//! Test-fixture builders (feature `test-support`, and this crate's own tests): an
//! [`EventTypeBuilder`], a [`BookingBuilder`] and a [`ScheduleBuilder`] that start from one
//! documented default and change only what a test names, so that the many tests that need
//! "an event type" or "a confirmed booking" do not each type out every field (and a new field
//! is added here once).
//!
//! Builders only build: nothing is validated or written. Never enabled in production builds.

// Fixture support: an impossible fixture (an instant out of range) panics like a test would.
#![allow(clippy::expect_used)]

use crate::availability::{DateOverride, LocalRange, Schedule, TimeOfDay, WeeklyRule, Zone};
use crate::booking::{
    Attendee, Booking, BookingLocation, BookingStatus, CalendarSyncStatus, Metadata, RawJson, Utm,
};
use crate::event_type::{
    BookingLimits, DEFAULT_COLOR, EventType, Host, Location, Question, SchedulingType,
};
use crate::ids::*;
use crate::interval::Interval;
use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};

/// An attendee with the given e-mail, named "Grace Guest", nothing optional.
pub fn attendee(email: &str) -> Attendee {
    Attendee {
        email: email.to_owned(),
        name: "Grace Guest".into(),
        first_name: None,
        last_name: None,
        phone: None,
        timezone: None,
        sms_opt_in: false,
    }
}

/// A question keyed and labelled `key`, of `kind`.
pub fn question(key: &str, kind: &str, required: bool) -> crate::event_type::Question {
    crate::event_type::Question {
        id: key.into(),
        key: key.into(),
        label: key.into(),
        kind: kind.into(),
        required,
    }
}

/// A request to book `start` for `email` (named Grace Guest), nothing else set.
pub fn booking_draft(start: Timestamp, email: &str) -> crate::booking_input::BookingDraft {
    crate::booking_input::BookingDraft {
        start: Some(start),
        attendee: Some(crate::booking_input::AttendeeDraft {
            email: Some(email.to_owned()),
            name: Some("Grace Guest".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Builds an [`EventType`]. Default: active, individual, 30 minutes on a grid of its duration,
/// titled `Meeting <slug>`, no hosts, no buffers, notice, horizon or limits, one seat,
/// rescheduling and cancelling allowed, version 1, created and updated at the Unix epoch.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventTypeBuilder {
    et: EventType,
    interval: Option<u32>,
}

impl EventTypeBuilder {
    pub fn new(id: EventTypeId, org: OrganizationId, slug: &str) -> Self {
        Self {
            et: EventType {
                id,
                organization_id: org,
                owner_user_id: UserId(uuid::Uuid::nil()),
                slug: slug.to_owned(),
                title: format!("Meeting {slug}"),
                description: None,
                duration_minutes: 30,
                slot_interval_minutes: 30,
                active: true,
                scheduling_type: SchedulingType::Individual,
                hosts: vec![],
                color: DEFAULT_COLOR.into(),
                buffer_before_minutes: 0,
                buffer_after_minutes: 0,
                minimum_notice_hours: 0,
                future_limit_days: 0,
                limits: BookingLimits::default(),
                seats: 1,
                requires_confirmation: false,
                allow_reschedule: true,
                allow_cancel: true,
                locations: vec![],
                questions: vec![],
                version: 1,
                created_at: Timestamp::UNIX_EPOCH,
                updated_at: Timestamp::UNIX_EPOCH,
            },
            interval: None,
        }
    }

    /// The hosts as `(user, schedule)` pairs, in order; the first one also owns the event type
    /// (unless [`EventTypeBuilder::owner`] says otherwise afterwards).
    pub fn hosts(mut self, hosts: &[(UserId, ScheduleId)]) -> Self {
        self.et.hosts = hosts
            .iter()
            .map(|&(user_id, schedule_id)| Host {
                user_id,
                schedule_id,
            })
            .collect();
        if let Some(&(owner, _)) = hosts.first() {
            self.et.owner_user_id = owner;
        }
        self
    }

    /// One host, who owns it.
    pub fn host(self, user: UserId, schedule: ScheduleId) -> Self {
        self.hosts(&[(user, schedule)])
    }

    pub fn owner(mut self, user: UserId) -> Self {
        self.et.owner_user_id = user;
        self
    }

    pub fn kind(mut self, kind: SchedulingType) -> Self {
        self.et.scheduling_type = kind;
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.et.title = title.to_owned();
        self
    }

    pub fn description(mut self, description: &str) -> Self {
        self.et.description = Some(description.to_owned());
        self
    }

    /// The duration; the slot grid follows it unless [`EventTypeBuilder::interval`] is set.
    pub fn duration(mut self, minutes: u32) -> Self {
        self.et.duration_minutes = minutes;
        self
    }

    pub fn interval(mut self, minutes: u32) -> Self {
        self.interval = Some(minutes);
        self
    }

    pub fn buffers(mut self, before_minutes: u32, after_minutes: u32) -> Self {
        self.et.buffer_before_minutes = before_minutes;
        self.et.buffer_after_minutes = after_minutes;
        self
    }

    pub fn notice_hours(mut self, hours: u32) -> Self {
        self.et.minimum_notice_hours = hours;
        self
    }

    pub fn future_limit_days(mut self, days: u32) -> Self {
        self.et.future_limit_days = days;
        self
    }

    pub fn limits(mut self, limits: BookingLimits) -> Self {
        self.et.limits = limits;
        self
    }

    pub fn seats(mut self, seats: u32) -> Self {
        self.et.seats = seats;
        self
    }

    pub fn active(mut self, active: bool) -> Self {
        self.et.active = active;
        self
    }

    pub fn color(mut self, color: &str) -> Self {
        self.et.color = color.to_owned();
        self
    }

    pub fn requires_confirmation(mut self, yes: bool) -> Self {
        self.et.requires_confirmation = yes;
        self
    }

    pub fn allow_reschedule(mut self, yes: bool) -> Self {
        self.et.allow_reschedule = yes;
        self
    }

    pub fn allow_cancel(mut self, yes: bool) -> Self {
        self.et.allow_cancel = yes;
        self
    }

    pub fn locations(mut self, locations: Vec<Location>) -> Self {
        self.et.locations = locations;
        self
    }

    pub fn questions(mut self, questions: Vec<Question>) -> Self {
        self.et.questions = questions;
        self
    }

    pub fn version(mut self, version: i64) -> Self {
        self.et.version = version;
        self
    }

    /// Created and last updated at `t`.
    pub fn at(mut self, t: Timestamp) -> Self {
        self.et.created_at = t;
        self.et.updated_at = t;
        self
    }

    pub fn build(self) -> EventType {
        let mut et = self.et;
        et.slot_interval_minutes = self.interval.unwrap_or(et.duration_minutes);
        et
    }
}

/// Builds a [`Booking`]. Default: confirmed, version 1, in `UTC`, one attendee
/// ([`attendee`]`("guest@example.com")`), nothing optional, no calendar sync, created and
/// updated at its start.
#[derive(Debug, Clone)]
#[must_use]
pub struct BookingBuilder {
    b: Booking,
}

impl BookingBuilder {
    /// A booking of `event_type` hosted by `host` at `start`: its end, blocked range (with the
    /// event type's buffers), slug and title come from the event type.
    pub fn of(uid: BookingUid, event_type: &EventType, host: UserId, start: Timestamp) -> Self {
        let blocked = Booking::blocked_interval(
            start,
            event_type.duration(),
            event_type.buffer_before(),
            event_type.buffer_after(),
        )
        .expect("fixture booking times are in range");
        let mut this = Self::new(
            uid,
            event_type.organization_id,
            event_type.id,
            host,
            start,
            start + event_type.duration(),
        );
        this.b.blocked = blocked;
        this.b.event_type_slug = Some(event_type.slug.clone());
        this.b.title = Some(event_type.title.clone());
        this
    }

    /// A booking of `[start, end)` blocking exactly that range, without slug or title.
    pub fn new(
        uid: BookingUid,
        org: OrganizationId,
        event_type: EventTypeId,
        host: UserId,
        start: Timestamp,
        end: Timestamp,
    ) -> Self {
        Self {
            b: Booking {
                uid,
                organization_id: org,
                version: 1,
                event_type_id: event_type,
                event_type_slug: None,
                title: None,
                status: BookingStatus::Confirmed,
                start,
                end,
                blocked: Interval::new(start, end).expect("fixture booking ends after it starts"),
                timezone: "UTC".into(),
                host_user_id: host,
                attendees: vec![attendee("guest@example.com")],
                guests: vec![],
                location: None,
                metadata: None,
                responses: None,
                utm: Utm::default(),
                calendar_sync_status: CalendarSyncStatus::NotApplicable,
                calendar_event_id: None,
                rescheduled_from_uid: None,
                reschedule_generation: 0,
                cancelled_at: None,
                cancellation_reason: None,
                no_show_at: None,
                no_show_reason: None,
                rescheduled_at: None,
                created_at: start,
                updated_at: start,
            },
        }
    }

    pub fn slug_and_title(mut self, slug: &str, title: &str) -> Self {
        self.b.event_type_slug = Some(slug.to_owned());
        self.b.title = Some(title.to_owned());
        self
    }

    pub fn status(mut self, status: BookingStatus) -> Self {
        self.b.status = status;
        self
    }

    pub fn timezone(mut self, zone: &str) -> Self {
        self.b.timezone = zone.to_owned();
        self
    }

    pub fn attendees(mut self, attendees: Vec<Attendee>) -> Self {
        self.b.attendees = attendees;
        self
    }

    pub fn guests(mut self, guests: Vec<String>) -> Self {
        self.b.guests = guests;
        self
    }

    pub fn location(mut self, location: BookingLocation) -> Self {
        self.b.location = Some(location);
        self
    }

    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.b.metadata = Some(metadata);
        self
    }

    pub fn responses(mut self, responses: RawJson) -> Self {
        self.b.responses = Some(responses);
        self
    }

    pub fn utm(mut self, utm: Utm) -> Self {
        self.b.utm = utm;
        self
    }

    /// Created and last updated at `t`.
    pub fn at(mut self, t: Timestamp) -> Self {
        self.b.created_at = t;
        self.b.updated_at = t;
        self
    }

    pub fn build(self) -> Booking {
        self.b
    }
}

/// Builds a [`Schedule`]. Default: named "Always", open Monday–Sunday 00:00–24:00 UTC, no
/// overrides, version 1, created and updated at the Unix epoch.
#[derive(Debug, Clone)]
#[must_use]
pub struct ScheduleBuilder {
    s: Schedule,
}

/// Every weekday, Monday first.
pub const EVERY_DAY: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

impl ScheduleBuilder {
    pub fn new(id: ScheduleId, org: OrganizationId, user: UserId) -> Self {
        let whole_day = LocalRange::new(TimeOfDay::MIDNIGHT, TimeOfDay::END_OF_DAY)
            .expect("00:00-24:00 is a range");
        Self {
            s: Schedule {
                id,
                organization_id: org,
                user_id: user,
                name: "Always".into(),
                zone: Zone::utc(),
                rules: vec![WeeklyRule {
                    days: EVERY_DAY.to_vec(),
                    range: whole_day,
                }],
                overrides: vec![],
                version: 1,
                created_at: Timestamp::UNIX_EPOCH,
                updated_at: Timestamp::UNIX_EPOCH,
            },
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.s.name = name.to_owned();
        self
    }

    pub fn zone(mut self, zone: Zone) -> Self {
        self.s.zone = zone;
        self
    }

    /// Replaces the weekly rules.
    pub fn rules(mut self, rules: Vec<WeeklyRule>) -> Self {
        self.s.rules = rules;
        self
    }

    pub fn overrides(mut self, overrides: Vec<DateOverride>) -> Self {
        self.s.overrides = overrides;
        self
    }

    /// Created and last updated at `t`.
    pub fn at(mut self, t: Timestamp) -> Self {
        self.s.created_at = t;
        self.s.updated_at = t;
        self
    }

    pub fn build(self) -> Schedule {
        self.s
    }
}

/// A duration of `n` minutes.
pub fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_booking_of_an_event_type_blocks_its_buffers() {
        let et = EventTypeBuilder::new(
            EventTypeId(Uuid::from_u128(1)),
            OrganizationId(Uuid::from_u128(2)),
            "x",
        )
        .host(UserId(Uuid::from_u128(3)), ScheduleId(Uuid::from_u128(4)))
        .duration(45)
        .buffers(5, 10)
        .build();
        assert_eq!(
            et.slot_interval_minutes, 45,
            "the grid follows the duration"
        );
        assert_eq!(et.owner_user_id, UserId(Uuid::from_u128(3)));
        let start: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        let b = BookingBuilder::of(BookingUid(Uuid::from_u128(5)), &et, et.owner_user_id, start)
            .build();
        assert_eq!(b.end, start + mins(45));
        assert_eq!(b.blocked.start(), start - mins(5));
        assert_eq!(b.blocked.end(), start + mins(55));
        assert_eq!(b.event_type_slug.as_deref(), Some("x"));
        assert_eq!((b.version, b.status), (1, BookingStatus::Confirmed));
    }
}
