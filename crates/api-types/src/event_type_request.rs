//! Writable event types (§7.1): `POST /v1/event-types` and `PATCH /v1/event-types/{id}`.
//!
//! The bodies convert into the domain's inputs ([`dom::NewEventType`], [`dom::EventTypePatch`])
//! without deciding anything: defaults, host resolution and every rule on values live in
//! `domain::event_type_service`, which reports every failing field at once.

use crate::WireFields;
use crate::event_type::EventTypeLocation;
use crate::json::double_option;
use domain::event_type as dom;
use domain::ids::{ScheduleId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use domain::event_type::{DEFAULT_COLOR, DEFAULT_FUTURE_LIMIT_DAYS};

/// A host as written: the schedule defaults to the user's first schedule.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostInput {
    pub user_id: Uuid,
    pub schedule_id: Option<Uuid>,
}

/// A question as written; `id` defaults to `key`, `type` to `text`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    pub id: Option<String>,
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub required: Option<bool>,
}

/// `POST /v1/event-types`. Required: `slug`, `title`, `duration_minutes`, `hosts`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventTypeRequest {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<u32>,
    /// Defaults to `duration_minutes`.
    pub slot_interval_minutes: Option<u32>,
    /// Default true.
    pub active: Option<bool>,
    /// `individual` (default), `group` or `collective` (round robin).
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostInput>>,
    /// The user whose `username/slug` addresses it; defaults to the first host.
    pub owner_user_id: Option<Uuid>,
    /// Default `#7c3aed`.
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    /// Default 60; `0` means no limit.
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<EventTypeLocation>>,
    pub questions: Option<Vec<QuestionInput>>,
    pub max_bookings_per_day: Option<u32>,
    pub max_bookings_per_week: Option<u32>,
    pub max_bookings_per_month: Option<u32>,
    pub requires_confirmation: Option<bool>,
    /// Default true.
    pub allow_reschedule: Option<bool>,
    /// Default true.
    pub allow_cancel: Option<bool>,
    /// Seats per slot for `group` (default 1).
    pub seats: Option<u32>,
}

impl WireFields for CreateEventTypeRequest {
    const FIELDS: &'static [&'static str] = &[
        "slug",
        "title",
        "description",
        "duration_minutes",
        "slot_interval_minutes",
        "active",
        "scheduling_type",
        "hosts",
        "owner_user_id",
        "color",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "future_limit_days",
        "locations",
        "questions",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "requires_confirmation",
        "allow_reschedule",
        "allow_cancel",
        "seats",
    ];
}

fn hosts(v: Vec<HostInput>) -> Vec<dom::HostRequest> {
    v.into_iter()
        .map(|h| dom::HostRequest {
            user_id: UserId(h.user_id),
            schedule_id: h.schedule_id.map(ScheduleId),
        })
        .collect()
}

fn locations(v: Vec<EventTypeLocation>) -> Vec<dom::Location> {
    v.into_iter()
        .map(|l| dom::Location {
            kind: l.kind,
            label: l.label,
            value: l.value,
        })
        .collect()
}

fn questions(v: Vec<QuestionInput>) -> Vec<dom::QuestionRequest> {
    v.into_iter()
        .map(|q| dom::QuestionRequest {
            id: q.id,
            key: q.key,
            label: q.label,
            kind: q.kind,
            required: q.required,
        })
        .collect()
}

impl CreateEventTypeRequest {
    /// The domain input, as written.
    pub fn into_domain(self) -> dom::NewEventType {
        dom::NewEventType {
            owner_user_id: self.owner_user_id.map(UserId),
            slug: self.slug,
            title: self.title,
            description: self.description,
            duration_minutes: self.duration_minutes,
            slot_interval_minutes: self.slot_interval_minutes,
            active: self.active,
            scheduling_type: self.scheduling_type,
            hosts: self.hosts.map(hosts),
            color: self.color,
            buffer_before_minutes: self.buffer_before_minutes,
            buffer_after_minutes: self.buffer_after_minutes,
            minimum_notice_hours: self.minimum_notice_hours,
            future_limit_days: self.future_limit_days,
            locations: self.locations.map(locations),
            questions: self.questions.map(questions),
            limits: dom::BookingLimits {
                per_day: self.max_bookings_per_day,
                per_week: self.max_bookings_per_week,
                per_month: self.max_bookings_per_month,
            },
            requires_confirmation: self.requires_confirmation,
            allow_reschedule: self.allow_reschedule,
            allow_cancel: self.allow_cancel,
            seats: self.seats,
        }
    }
}

/// `PATCH /v1/event-types/{id}`: any subset of the writable fields; nullable ones accept
/// `null` to clear.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEventTypeRequest {
    pub slug: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub duration_minutes: Option<u32>,
    pub slot_interval_minutes: Option<u32>,
    pub active: Option<bool>,
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostInput>>,
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<EventTypeLocation>>,
    pub questions: Option<Vec<QuestionInput>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_day: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_week: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_month: Option<Option<u32>>,
    pub requires_confirmation: Option<bool>,
    pub allow_reschedule: Option<bool>,
    pub allow_cancel: Option<bool>,
    pub seats: Option<u32>,
}

impl WireFields for PatchEventTypeRequest {
    const FIELDS: &'static [&'static str] = &[
        "slug",
        "title",
        "description",
        "duration_minutes",
        "slot_interval_minutes",
        "active",
        "scheduling_type",
        "hosts",
        "color",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "future_limit_days",
        "locations",
        "questions",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "requires_confirmation",
        "allow_reschedule",
        "allow_cancel",
        "seats",
    ];
}

impl PatchEventTypeRequest {
    /// The domain input, as written.
    pub fn into_domain(self) -> dom::EventTypePatch {
        dom::EventTypePatch {
            slug: self.slug,
            title: self.title,
            description: self.description,
            duration_minutes: self.duration_minutes,
            slot_interval_minutes: self.slot_interval_minutes,
            active: self.active,
            scheduling_type: self.scheduling_type,
            hosts: self.hosts.map(hosts),
            color: self.color,
            buffer_before_minutes: self.buffer_before_minutes,
            buffer_after_minutes: self.buffer_after_minutes,
            minimum_notice_hours: self.minimum_notice_hours,
            future_limit_days: self.future_limit_days,
            locations: self.locations.map(locations),
            questions: self.questions.map(questions),
            max_bookings_per_day: self.max_bookings_per_day,
            max_bookings_per_week: self.max_bookings_per_week,
            max_bookings_per_month: self.max_bookings_per_month,
            requires_confirmation: self.requires_confirmation,
            allow_reschedule: self.allow_reschedule,
            allow_cancel: self.allow_cancel,
            seats: self.seats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn create_maps_fields_as_written() {
        let r: CreateEventTypeRequest = serde_json::from_value(json!({
            "slug": "intro", "title": "Intro", "duration_minutes": 45,
            "hosts": [{"user_id": Uuid::from_u128(7)}],
            "questions": [{"key": "company", "label": "Company"}],
            "max_bookings_per_day": 2
        }))
        .unwrap();
        let n = r.into_domain();
        assert_eq!(n.slug.as_deref(), Some("intro"));
        assert_eq!(n.duration_minutes, Some(45));
        assert_eq!(n.slot_interval_minutes, None, "the default is the domain's");
        let h = n.hosts.unwrap();
        assert_eq!(h[0].user_id, UserId(Uuid::from_u128(7)));
        assert_eq!(h[0].schedule_id, None);
        assert_eq!(n.questions.unwrap()[0].id, None);
        assert_eq!(n.limits.per_day, Some(2));
    }

    #[test]
    fn patch_distinguishes_null_from_absent() {
        let p: PatchEventTypeRequest = serde_json::from_value(json!({
            "description": null, "title": "New", "max_bookings_per_week": 3
        }))
        .unwrap();
        let d = p.into_domain();
        assert_eq!(d.description, Some(None));
        assert_eq!(d.title.as_deref(), Some("New"));
        assert_eq!(d.max_bookings_per_day, None);
        assert_eq!(d.max_bookings_per_week, Some(Some(3)));
        let nested: Result<PatchEventTypeRequest, _> =
            serde_json::from_value(json!({"hosts": [{"user_id": Uuid::nil(), "x": 1}]}));
        assert!(nested.is_err());
    }
}
