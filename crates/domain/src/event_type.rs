//! Event types: what can be booked, for how long, with whom, under which limits.

use crate::availability::Zone;
use crate::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use crate::validate::FieldErrors;
use jiff::{SignedDuration, Timestamp};

/// How a caller names an event type: by id, or by its owner's username and its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypeRef {
    Id(EventTypeId),
    Slug { username: String, slug: String },
}

/// The default colour of a new event type.
pub const DEFAULT_COLOR: &str = "#7c3aed";
/// A new event type is bookable up to this many days ahead unless told otherwise.
pub const DEFAULT_FUTURE_LIMIT_DAYS: u32 = 60;

/// A host as requested: the schedule defaults to the user's first (oldest) schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRequest {
    pub user_id: UserId,
    pub schedule_id: Option<ScheduleId>,
}

/// A question as requested; `id` defaults to `key`, `kind` to `text`, `required` to false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionRequest {
    pub id: Option<String>,
    pub key: String,
    pub label: String,
    pub kind: Option<String>,
    pub required: Option<bool>,
}

/// Input of [`crate::event_type_service::EventTypeService::create`]: `None` takes the
/// default. Required: `slug`, `title`, `duration_minutes`, `hosts`. Nothing here is trusted:
/// the service checks every field and reports all failures at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEventType {
    /// Defaults to the first host.
    pub owner_user_id: Option<UserId>,
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<u32>,
    /// Defaults to the duration.
    pub slot_interval_minutes: Option<u32>,
    pub active: Option<bool>,
    /// `individual` (default), `group` or `collective` (round robin).
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostRequest>>,
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<Location>>,
    pub questions: Option<Vec<QuestionRequest>>,
    pub limits: BookingLimits,
    pub requires_confirmation: Option<bool>,
    pub allow_reschedule: Option<bool>,
    pub allow_cancel: Option<bool>,
    /// Seats per slot for group event types (default 1).
    pub seats: Option<u32>,
}

/// Input of [`crate::event_type_service::EventTypeService::update`]: the written fields;
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypePatch {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub duration_minutes: Option<u32>,
    pub slot_interval_minutes: Option<u32>,
    pub active: Option<bool>,
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostRequest>>,
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<Location>>,
    pub questions: Option<Vec<QuestionRequest>>,
    pub max_bookings_per_day: Option<Option<u32>>,
    pub max_bookings_per_week: Option<Option<u32>>,
    pub max_bookings_per_month: Option<Option<u32>>,
    pub requires_confirmation: Option<bool>,
    pub allow_reschedule: Option<bool>,
    pub allow_cancel: Option<bool>,
    pub seats: Option<u32>,
}

/// Identity and time of a new row, chosen by the service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRow {
    pub id: EventTypeId,
    pub organization_id: OrganizationId,
    pub now: Timestamp,
}

fn scheduling_type(e: &mut FieldErrors, s: Option<&str>) -> Option<SchedulingType> {
    match s {
        None => Some(SchedulingType::Individual),
        Some(s) => {
            let t = SchedulingType::parse(s);
            if t.is_none() {
                e.push("scheduling_type", "must be individual, group or collective");
            }
            t
        }
    }
}

fn questions(v: Vec<QuestionRequest>) -> Vec<Question> {
    v.into_iter()
        .map(|q| Question {
            id: q.id.unwrap_or_else(|| q.key.clone()),
            key: q.key,
            label: q.label,
            kind: q.kind.unwrap_or_else(|| "text".into()),
            required: q.required.unwrap_or(false),
        })
        .collect()
}

/// How hosts share an event type. Round robin travels as `"collective"` on the wire (the
/// contract's label): one host from `hosts` is assigned per booking (§6.1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchedulingType {
    /// One host, one attendee per slot.
    Individual,
    /// One host, up to `seats` attendees per slot.
    Group,
    /// Round robin over `hosts` (wire value `collective`).
    RoundRobin,
}

impl SchedulingType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Group => "group",
            Self::RoundRobin => "collective",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(Self::Individual),
            "group" => Some(Self::Group),
            "collective" => Some(Self::RoundRobin),
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

    /// The seat-sharing exception, in one place: bookings of one group slot (same event type and
    /// start) share its time instead of overlapping it.
    pub fn shares_seats(&self) -> bool {
        self.scheduling_type == SchedulingType::Group
    }

    /// The first host's schedule zone, when `zone_of` knows that schedule (the detail shape's
    /// `timezone`; `null` otherwise). See [`EventType::zone`] for the rule.
    pub fn host_zone<'a>(
        &self,
        zone_of: impl FnOnce(ScheduleId) -> Option<&'a Zone>,
    ) -> Option<&'a Zone> {
        self.zone_schedule_id().and_then(zone_of)
    }

    /// The schedule whose zone is the event type's zone: the first host's.
    pub fn zone_schedule_id(&self) -> Option<ScheduleId> {
        self.hosts.first().map(|h| h.schedule_id)
    }

    /// The event type's zone — the rule, in exactly one place: **its first host's schedule
    /// zone, else UTC**. Slot bounds given as dates, booking limits, the future-limit horizon
    /// and a booking's default zone are all counted in it. `zone_of` gives a schedule's zone.
    pub fn zone<'a>(&self, zone_of: impl FnOnce(ScheduleId) -> Option<&'a Zone>) -> Zone {
        self.host_zone(zone_of).cloned().unwrap_or_else(Zone::utc)
    }

    /// Builds a new event type from a request: defaults applied, every field checked, and every
    /// failing field reported at once together with `errors` already found by the caller
    /// (e.g. host resolution).
    pub(crate) fn create(
        row: NewRow,
        owner: UserId,
        hosts: Vec<Host>,
        new: NewEventType,
        mut e: FieldErrors,
    ) -> Result<EventType, FieldErrors> {
        let slug = new.slug.unwrap_or_else(|| {
            e.push("slug", "is required");
            String::new()
        });
        let title = new.title.unwrap_or_else(|| {
            e.push("title", "is required");
            String::new()
        });
        // A missing duration is reported once; the interval then defaults to a valid value so
        // that it is not reported as well.
        let interval = new
            .slot_interval_minutes
            .or(new.duration_minutes)
            .unwrap_or(1);
        let duration = new.duration_minutes.unwrap_or_else(|| {
            e.push("duration_minutes", "is required");
            0
        });
        let kind = scheduling_type(&mut e, new.scheduling_type.as_deref());
        let et = EventType {
            id: row.id,
            organization_id: row.organization_id,
            owner_user_id: owner,
            slug,
            title,
            description: new.description,
            duration_minutes: duration,
            slot_interval_minutes: interval,
            active: new.active.unwrap_or(true),
            scheduling_type: kind.unwrap_or(SchedulingType::Individual),
            hosts,
            color: new.color.unwrap_or_else(|| DEFAULT_COLOR.into()),
            buffer_before_minutes: new.buffer_before_minutes.unwrap_or(0),
            buffer_after_minutes: new.buffer_after_minutes.unwrap_or(0),
            minimum_notice_hours: new.minimum_notice_hours.unwrap_or(0),
            future_limit_days: new.future_limit_days.unwrap_or(DEFAULT_FUTURE_LIMIT_DAYS),
            limits: new.limits,
            seats: new.seats.unwrap_or(1),
            requires_confirmation: new.requires_confirmation.unwrap_or(false),
            allow_reschedule: new.allow_reschedule.unwrap_or(true),
            allow_cancel: new.allow_cancel.unwrap_or(true),
            locations: new.locations.unwrap_or_default(),
            questions: questions(new.questions.unwrap_or_default()),
            version: 1,
            created_at: row.now,
            updated_at: row.now,
        };
        let hosts_known = !e.has("hosts");
        et.check(&mut e, hosts_known);
        e.finish(et)
    }

    /// The event type after `patch` (hosts already resolved when written), its version bumped
    /// and `updated_at` touched; every failing field at once, with `e` from the caller.
    pub(crate) fn patched(
        &self,
        patch: EventTypePatch,
        hosts: Option<Vec<Host>>,
        now: Timestamp,
        mut e: FieldErrors,
    ) -> Result<EventType, FieldErrors> {
        let mut et = self.clone();
        if let Some(s) = patch.scheduling_type.as_deref()
            && let Some(k) = scheduling_type(&mut e, Some(s))
        {
            et.scheduling_type = k;
        }
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = patch.$field { et.$field = v; } )* };
        }
        set!(
            slug,
            title,
            description,
            duration_minutes,
            slot_interval_minutes,
            active,
            color,
            buffer_before_minutes,
            buffer_after_minutes,
            minimum_notice_hours,
            future_limit_days,
            requires_confirmation,
            allow_reschedule,
            allow_cancel,
            seats,
            locations
        );
        if let Some(h) = hosts {
            et.hosts = h;
        }
        if let Some(v) = patch.max_bookings_per_day {
            et.limits.per_day = v;
        }
        if let Some(v) = patch.max_bookings_per_week {
            et.limits.per_week = v;
        }
        if let Some(v) = patch.max_bookings_per_month {
            et.limits.per_month = v;
        }
        if let Some(q) = patch.questions {
            et.questions = questions(q);
        }
        et.version += 1;
        et.updated_at = now;
        let hosts_known = !e.has("hosts");
        et.check(&mut e, hosts_known);
        e.finish(et)
    }

    /// Checks every field into `e` with the wire field names (`hosts` only when `hosts_known`).
    fn check(&self, e: &mut FieldErrors, hosts_known: bool) {
        let slug_ok = (1..=127).contains(&self.slug.len())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !slug_ok && !e.has("slug") {
            e.push(
                "slug",
                "must be 1-127 lowercase letters, digits, '-' or '_'",
            );
        }
        if (self.title.trim().is_empty() || self.title.chars().count() > 255) && !e.has("title") {
            e.push("title", "must be 1-255 characters");
        }
        if let Some(d) = &self.description
            && d.chars().count() > 5000
        {
            e.push("description", "must be at most 5000 characters");
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&self.duration_minutes)
            && !e.has("duration_minutes")
        {
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
        if hosts_known {
            if self.hosts.is_empty() || self.hosts.len() > MAX_HOSTS {
                e.push("hosts", format!("must list 1 to {MAX_HOSTS} hosts"));
            } else if self.scheduling_type != SchedulingType::RoundRobin && self.hosts.len() != 1 {
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
    }
}
