//! Event types: what can be booked, for how long, with whom, under which limits.

use crate::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use crate::validate::FieldErrors;
use jiff::{SignedDuration, Timestamp};

/// How hosts share an event type. `Collective` is the contract's wire label for round robin:
/// one host from `hosts` is assigned per booking (§6.1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchedulingType {
    /// One host, one attendee per slot.
    Individual,
    /// One host, up to `seats` attendees per slot.
    Group,
    /// Round robin over `hosts`.
    Collective,
}

impl SchedulingType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Group => "group",
            Self::Collective => "collective",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(Self::Individual),
            "group" => Some(Self::Group),
            "collective" => Some(Self::Collective),
            _ => None,
        }
    }
}

/// A host of an event type and the schedule that gives their availability for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub user_id: UserId,
    pub schedule_id: ScheduleId,
}

/// Where the meeting happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// e.g. `google_meet`, `phone`, `in_person`.
    pub kind: String,
    pub label: String,
    pub value: Option<String>,
}

/// A question on the invitee form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    /// The key answers are sent under in `responses`.
    pub key: String,
    pub label: String,
    /// e.g. `text`, `textarea`, `phone`, `select`.
    pub kind: String,
    pub required: bool,
}

/// Per-period booking caps, counted in the host schedule's zone (§6.4.5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingLimits {
    pub per_day: Option<u32>,
    pub per_week: Option<u32>,
    pub per_month: Option<u32>,
}

/// A bookable kind of meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType {
    pub id: EventTypeId,
    pub organization_id: OrganizationId,
    /// The user who owns it; `username/slug` addresses it.
    pub owner_user_id: UserId,
    /// Unique per owner.
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: u32,
    /// Distance between candidate starts; defaults to the duration.
    pub slot_interval_minutes: u32,
    pub active: bool,
    pub scheduling_type: SchedulingType,
    /// In order; round robin breaks ties by this order. Never empty.
    pub hosts: Vec<Host>,
    pub color: String,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub minimum_notice_hours: u32,
    /// Bookable until the end of local date `today + future_limit_days`; `0` means no limit.
    pub future_limit_days: u32,
    pub limits: BookingLimits,
    /// Seat capacity per slot for `Group`; ignored otherwise.
    pub seats: u32,
    pub requires_confirmation: bool,
    pub allow_reschedule: bool,
    pub allow_cancel: bool,
    pub locations: Vec<Location>,
    pub questions: Vec<Question>,
    /// Starts at 1; bumped by every update (ETag source).
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Upper bounds that keep one event type's slot computation cheap and sane.
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;
pub const MAX_BUFFER_MINUTES: u32 = 24 * 60;
pub const MAX_NOTICE_HOURS: u32 = 24 * 365;
pub const MAX_FUTURE_LIMIT_DAYS: u32 = 3650;
pub const MAX_SEATS: u32 = 1000;
pub const MAX_HOSTS: usize = 50;

impl EventType {
    pub fn duration(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.duration_minutes))
    }

    pub fn slot_interval(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.slot_interval_minutes))
    }

    pub fn buffer_before(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.buffer_before_minutes))
    }

    pub fn buffer_after(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.buffer_after_minutes))
    }

    /// Seats per slot: `seats` for group events, 1 otherwise.
    pub fn capacity(&self) -> u32 {
        match self.scheduling_type {
            SchedulingType::Group => self.seats.max(1),
            _ => 1,
        }
    }

    /// Checks every field; all problems are reported at once with the wire field names.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let slug_ok = (1..=127).contains(&self.slug.len())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !slug_ok {
            e.push(
                "slug",
                "must be 1-127 lowercase letters, digits, '-' or '_'",
            );
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 255 {
            e.push("title", "must be 1-255 characters");
        }
        if let Some(d) = &self.description
            && d.chars().count() > 5000
        {
            e.push("description", "must be at most 5000 characters");
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&self.duration_minutes) {
            e.push(
                "duration_minutes",
                format!("must be between 1 and {MAX_DURATION_MINUTES}"),
            );
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&self.slot_interval_minutes) {
            e.push(
                "slot_interval_minutes",
                format!("must be between 1 and {MAX_DURATION_MINUTES}"),
            );
        }
        if self.buffer_before_minutes > MAX_BUFFER_MINUTES {
            e.push(
                "buffer_before_minutes",
                format!("must be at most {MAX_BUFFER_MINUTES}"),
            );
        }
        if self.buffer_after_minutes > MAX_BUFFER_MINUTES {
            e.push(
                "buffer_after_minutes",
                format!("must be at most {MAX_BUFFER_MINUTES}"),
            );
        }
        if self.minimum_notice_hours > MAX_NOTICE_HOURS {
            e.push(
                "minimum_notice_hours",
                format!("must be at most {MAX_NOTICE_HOURS}"),
            );
        }
        if self.future_limit_days > MAX_FUTURE_LIMIT_DAYS {
            e.push(
                "future_limit_days",
                format!("must be at most {MAX_FUTURE_LIMIT_DAYS}"),
            );
        }
        if self.hosts.is_empty() || self.hosts.len() > MAX_HOSTS {
            e.push("hosts", format!("must list 1 to {MAX_HOSTS} hosts"));
        } else if self.scheduling_type != SchedulingType::Collective && self.hosts.len() != 1 {
            e.push(
                "hosts",
                "individual and group event types have exactly one host",
            );
        }
        let mut ids: Vec<_> = self.hosts.iter().map(|h| h.user_id).collect();
        ids.sort();
        ids.dedup();
        if ids.len() != self.hosts.len() {
            e.push("hosts", "a user may be listed once");
        }
        if self.scheduling_type == SchedulingType::Group && !(1..=MAX_SEATS).contains(&self.seats) {
            e.push(
                "seats",
                format!("group event types need 1 to {MAX_SEATS} seats"),
            );
        }
        let color_ok = self.color.len() == 7
            && self.color.starts_with('#')
            && self.color[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !color_ok {
            e.push("color", "must be a hex colour like #7c3aed");
        }
        for (name, v) in [
            ("max_bookings_per_day", self.limits.per_day),
            ("max_bookings_per_week", self.limits.per_week),
            ("max_bookings_per_month", self.limits.per_month),
        ] {
            if v == Some(0) {
                e.push(name, "must be at least 1, or null for no limit");
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            if q.key.is_empty() || !keys.insert(q.key.as_str()) {
                e.push(
                    format!("questions[{i}].key"),
                    "must be non-empty and unique",
                );
            }
        }
        e.finish(())
    }
}
