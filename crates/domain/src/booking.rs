//! Bookings: the model, its state machine and the rules for changing it.
//!
//! State machine: `Confirmed` → `Canceled`; `Confirmed` → `Rescheduled` (the move creates a new
//! booking carrying `rescheduled_from_uid` and `reschedule_generation + 1`). `Pending` exists for
//! event types that require confirmation and holds time like `Confirmed`. Every mutation bumps
//! `version`.

pub use crate::booking_input::BookingPatch;
use crate::ids::{BookingUid, EventTypeId, OrganizationId, UserId};
use crate::interval::Interval;
use crate::validate::FieldErrors;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// A booking's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BookingStatus {
    Confirmed,
    Pending,
    Canceled,
    Rescheduled,
}

impl BookingStatus {
    /// Every status, in the order stores list them.
    pub const ALL: [BookingStatus; 4] = [
        Self::Confirmed,
        Self::Pending,
        Self::Canceled,
        Self::Rescheduled,
    ];

    /// The statuses that hold a host's time (§6.4.3) — the one list; the stores' SQL literals
    /// are checked against it (`tidy`: `sql_status_lists_match_the_domain`).
    pub const HOLDING_TIME: [BookingStatus; 2] = [Self::Confirmed, Self::Pending];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Pending => "pending",
            Self::Canceled => "canceled",
            Self::Rescheduled => "rescheduled",
        }
    }

    /// Parses a status; `cancelled` is accepted for `canceled` (§6.1.8).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Self::Confirmed),
            "pending" => Some(Self::Pending),
            "canceled" | "cancelled" => Some(Self::Canceled),
            "rescheduled" => Some(Self::Rescheduled),
            _ => None,
        }
    }

    /// Whether a booking in this status blocks its host's time (§6.4.3).
    pub fn holds_time(&self) -> bool {
        Self::HOLDING_TIME.contains(self)
    }
}

/// Calendar synchronisation state; Slotbook has no calendar connections yet, so new bookings are
/// `NotApplicable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarSyncStatus {
    Synced,
    Pending,
    Failed,
    NotApplicable,
}

impl CalendarSyncStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "synced" => Some(Self::Synced),
            "pending" => Some(Self::Pending),
            "failed" => Some(Self::Failed),
            "not_applicable" => Some(Self::NotApplicable),
            _ => None,
        }
    }
}

/// A JSON document kept as its text. The domain never interprets it; adapters (de)serialize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawJson(pub String);

/// One metadata value: strings are visible to the limits, anything else is opaque JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataValue {
    Text(String),
    Json(RawJson),
}

/// Caller data echoed unchanged; shallow-merged by PATCH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(pub BTreeMap<String, MetadataValue>);

/// Metadata limits (§6.3).
pub const METADATA_MAX_KEYS: usize = 50;
pub const METADATA_MAX_KEY_CHARS: usize = 40;
pub const METADATA_MAX_STRING_CHARS: usize = 500;
/// A non-string value (number, bool, array, object) is at most this long as JSON text…
pub const METADATA_MAX_JSON_CHARS: usize = 1000;
/// …and nests arrays/objects at most this deep (`{"a":{"b":1}}` as a value is depth 2).
pub const METADATA_MAX_DEPTH: usize = 5;

/// The deepest array/object nesting of JSON text (strings skipped).
fn json_depth(raw: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for c in raw.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

impl Metadata {
    /// Checks the limits: ≤ 50 keys, keys ≤ 40 characters, string values ≤ 500 characters.
    pub(crate) fn check_limits(&self, errors: &mut FieldErrors) {
        if self.0.len() > METADATA_MAX_KEYS {
            errors.push(
                "metadata",
                format!("may hold at most {METADATA_MAX_KEYS} keys"),
            );
        }
        for (k, v) in &self.0 {
            if k.is_empty() || k.chars().count() > METADATA_MAX_KEY_CHARS {
                errors.push(
                    format!("metadata.{k}"),
                    format!("keys must be 1-{METADATA_MAX_KEY_CHARS} characters"),
                );
            }
            if let MetadataValue::Text(s) = v
                && s.chars().count() > METADATA_MAX_STRING_CHARS
            {
                errors.push(
                    format!("metadata.{k}"),
                    format!("string values must be at most {METADATA_MAX_STRING_CHARS} characters"),
                );
            }
            if let MetadataValue::Json(RawJson(raw)) = v
                && (raw.chars().count() > METADATA_MAX_JSON_CHARS
                    || json_depth(raw) > METADATA_MAX_DEPTH)
            {
                errors.push(
                    format!("metadata.{k}"),
                    format!(
                        "non-string values must be at most {METADATA_MAX_JSON_CHARS} characters of JSON nested at most {METADATA_MAX_DEPTH} deep"
                    ),
                );
            }
        }
    }

    /// Shallow merge: keys in `patch` replace or add; keys are never removed.
    pub fn merged(&self, patch: &Metadata) -> Metadata {
        let mut out = self.0.clone();
        for (k, v) in &patch.0 {
            out.insert(k.clone(), v.clone());
        }
        Metadata(out)
    }
}

/// A person attending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub email: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub timezone: Option<String>,
    pub sms_opt_in: bool,
}

/// Tracking parameters sent with the booking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
}

/// Where the booked meeting happens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingLocation {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub value: Option<String>,
}

/// A booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub uid: BookingUid,
    pub organization_id: OrganizationId,
    /// Starts at 1; bumped by every PATCH, cancel and reschedule.
    pub version: i64,
    pub event_type_id: EventTypeId,
    pub event_type_slug: Option<String>,
    pub title: Option<String>,
    pub status: BookingStatus,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The time the host's calendar is blocked: `[start - buffer_before, end + buffer_after)`.
    pub blocked: Interval,
    /// IANA zone the attendee sees.
    pub timezone: String,
    pub host_user_id: UserId,
    pub attendees: Vec<Attendee>,
    pub guests: Vec<String>,
    pub location: Option<BookingLocation>,
    pub metadata: Option<Metadata>,
    pub responses: Option<RawJson>,
    pub utm: Utm,
    pub calendar_sync_status: CalendarSyncStatus,
    pub calendar_event_id: Option<String>,
    pub rescheduled_from_uid: Option<BookingUid>,
    /// 0 for an original booking; +1 per move.
    pub reschedule_generation: i32,
    pub cancelled_at: Option<Timestamp>,
    pub cancellation_reason: Option<String>,
    pub no_show_at: Option<Timestamp>,
    pub no_show_reason: Option<String>,
    /// When this booking was replaced by a reschedule.
    pub rescheduled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Limits on text written by clients.
pub const MAX_REASON_CHARS: usize = 1024;
pub const MAX_ATTENDEE_NAME_CHARS: usize = 200;
pub const MAX_GUESTS: usize = 10;

/// Why cancelling failed.
#[derive(Debug, thiserror::Error)]
pub enum CancelRuleError {
    #[error("this event type does not allow cancellation")]
    CancelNotAllowed,
}

/// Why a reschedule is refused before the slot is checked.
#[derive(Debug, thiserror::Error)]
pub enum RescheduleRuleError {
    #[error("booking is already cancelled")]
    AlreadyCancelled,
    #[error("booking was already rescheduled; reschedule the booking that replaced it")]
    AlreadyRescheduled,
    #[error("booking has already started")]
    InPast,
    #[error("this event type does not allow rescheduling")]
    Disallowed,
}

impl Booking {
    /// The interval a booking at `start` blocks for an event type with the given buffers.
    pub fn blocked_interval(
        start: Timestamp,
        duration: SignedDuration,
        before: SignedDuration,
        after: SignedDuration,
    ) -> Option<Interval> {
        let s = start.checked_sub(before).ok()?;
        let e = start.checked_add(duration).ok()?.checked_add(after).ok()?;
        Interval::new(s, e)
    }

    /// Cancels in place. Returns `false` (and changes nothing) when already canceled, or when
    /// the booking was since rescheduled (its replacement holds the time; the caller gets this
    /// one's current state, as the contract answers an already-canceled one): cancelling is
    /// idempotent at the domain level.
    pub fn cancel(
        &mut self,
        reason: Option<String>,
        allow_cancel: bool,
        now: Timestamp,
    ) -> Result<bool, CancelRuleError> {
        match self.status {
            BookingStatus::Canceled | BookingStatus::Rescheduled => Ok(false),
            BookingStatus::Confirmed | BookingStatus::Pending => {
                if !allow_cancel {
                    return Err(CancelRuleError::CancelNotAllowed);
                }
                self.status = BookingStatus::Canceled;
                self.cancelled_at = Some(now);
                self.cancellation_reason = reason;
                self.touch(now);
                Ok(true)
            }
        }
    }

    /// Checks that this booking may be moved now.
    pub fn check_reschedulable(
        &self,
        allow_reschedule: bool,
        now: Timestamp,
    ) -> Result<(), RescheduleRuleError> {
        match self.status {
            BookingStatus::Canceled => return Err(RescheduleRuleError::AlreadyCancelled),
            BookingStatus::Rescheduled => return Err(RescheduleRuleError::AlreadyRescheduled),
            _ => {}
        }
        if !allow_reschedule {
            return Err(RescheduleRuleError::Disallowed);
        }
        if self.start <= now {
            return Err(RescheduleRuleError::InPast);
        }
        Ok(())
    }

    /// Marks this booking as replaced by a move.
    pub fn mark_rescheduled(&mut self, reason: Option<String>, now: Timestamp) {
        self.status = BookingStatus::Rescheduled;
        self.rescheduled_at = Some(now);
        if reason.is_some() {
            self.cancellation_reason = reason;
        }
        self.touch(now);
    }

    /// Applies a checked PATCH; returns the wire names of the fields written.
    pub fn apply_patch(&mut self, patch: &BookingPatch, now: Timestamp) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if let Some(m) = patch.metadata() {
            let merged = self.metadata.clone().unwrap_or_default().merged(m);
            self.metadata = Some(merged);
            changed.push("metadata");
        }
        if let Some(r) = patch.responses() {
            self.responses = Some(r.to_json());
            changed.push("responses");
        }
        if let Some(name) = patch.attendee_name() {
            if let Some(a) = self.attendees.first_mut() {
                a.name = name.to_owned();
            }
            changed.push("attendee_name");
        }
        self.touch(now);
        changed
    }

    fn touch(&mut self, now: Timestamp) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// Fields that a PATCH may never write (§3.10); present → `422 field_immutable`.
pub const IMMUTABLE_FIELDS: &[&str] = &[
    "start",
    "end",
    "timezone",
    "status",
    "event_type_id",
    "uid",
    "version",
];

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    pub(crate) fn sample(now: Timestamp) -> Booking {
        let start: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-06-01T10:30:00Z".parse().unwrap();
        Booking {
            uid: BookingUid(Uuid::nil()),
            organization_id: OrganizationId(Uuid::nil()),
            version: 1,
            event_type_id: EventTypeId(Uuid::nil()),
            event_type_slug: None,
            title: None,
            status: BookingStatus::Confirmed,
            start,
            end,
            blocked: Interval::new(start, end).unwrap(),
            timezone: "UTC".into(),
            host_user_id: UserId(Uuid::nil()),
            attendees: vec![Attendee {
                email: "a@b.co".into(),
                name: "A".into(),
                first_name: None,
                last_name: None,
                phone: None,
                timezone: None,
                sms_opt_in: false,
            }],
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
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn cancel_bumps_version_once_and_is_idempotent() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut b = sample(now);
        assert!(b.cancel(Some("sick".into()), true, now).unwrap());
        assert_eq!((b.status, b.version), (BookingStatus::Canceled, 2));
        assert!(!b.cancel(None, true, now).unwrap());
        assert_eq!(b.version, 2);
        assert_eq!(b.cancellation_reason.as_deref(), Some("sick"));
    }

    #[test]
    fn nested_metadata_is_capped() {
        let value = |raw: &str| {
            Metadata([("k".to_string(), MetadataValue::Json(RawJson(raw.into())))].into())
        };
        let ok = |m: Metadata| {
            let mut e = FieldErrors::default();
            m.check_limits(&mut e);
            e.is_empty()
        };
        assert!(ok(value(r#"{"a":[1,{"b":"]]]]]]]"}]}"#)));
        assert!(!ok(value(&format!("{}1{}", "[".repeat(6), "]".repeat(6)))));
        assert!(!ok(value(&format!("[{}]", vec!["1"; 600].join(",")))));
    }

    #[test]
    fn rescheduled_bookings_are_left_as_they_are_and_cannot_be_moved_again() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut b = sample(now);
        b.mark_rescheduled(None, now);
        let before = b.clone();
        assert!(!b.cancel(None, true, now).unwrap());
        assert_eq!(b, before);
        assert!(matches!(
            b.check_reschedulable(true, now),
            Err(RescheduleRuleError::AlreadyRescheduled)
        ));
    }

    #[test]
    fn reschedule_rules_in_order() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let b = sample(now);
        assert!(b.check_reschedulable(true, now).is_ok());
        assert!(matches!(
            b.check_reschedulable(false, now),
            Err(RescheduleRuleError::Disallowed)
        ));
        let later: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        assert!(matches!(
            b.check_reschedulable(true, later),
            Err(RescheduleRuleError::InPast)
        ));
        let mut c = sample(now);
        c.cancel(None, true, now).unwrap();
        assert!(matches!(
            c.check_reschedulable(true, now),
            Err(RescheduleRuleError::AlreadyCancelled)
        ));
    }

    #[test]
    fn patch_merges_metadata_replaces_responses_truncates_name() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut b = sample(now);
        b.metadata = Some(Metadata(
            [("a".to_string(), MetadataValue::Text("1".into()))].into(),
        ));
        let patch = BookingPatch::new(
            crate::booking_input::PatchDraft {
                metadata: Some(Metadata(
                    [("b".to_string(), MetadataValue::Json(RawJson("2".into())))].into(),
                )),
                responses: Some(crate::answers::Responses::default()),
                attendee_name: Some("x".repeat(300)),
            },
            &b,
            None,
        )
        .unwrap();
        let changed = b.apply_patch(&patch, now);
        assert_eq!(changed, vec!["metadata", "responses", "attendee_name"]);
        assert_eq!(b.metadata.as_ref().unwrap().0.len(), 2);
        assert_eq!(b.attendees[0].name.chars().count(), 200);
        assert_eq!(b.version, 2);
    }

    #[test]
    fn metadata_limits() {
        let mut e = FieldErrors::default();
        let many: BTreeMap<String, MetadataValue> = (0..51)
            .map(|i| (format!("k{i}"), MetadataValue::Text("v".into())))
            .collect();
        Metadata(many).check_limits(&mut e);
        assert_eq!(e.0.len(), 1);
        let mut e = FieldErrors::default();
        Metadata([("k".repeat(41), MetadataValue::Text("x".repeat(501)))].into())
            .check_limits(&mut e);
        assert_eq!(e.0.len(), 2);
    }

    #[test]
    fn status_parse_accepts_british_spelling() {
        assert_eq!(
            BookingStatus::parse("cancelled"),
            Some(BookingStatus::Canceled)
        );
        assert!(BookingStatus::Pending.holds_time());
        assert!(!BookingStatus::Rescheduled.holds_time());
    }
}
