//! `EventTypeDto` (the contract's `EventType`, §3.3) and `EventTypeDetail` (§3.4) as the API
//! renders them, plus Slotbook's additions `slot_interval_minutes`, `seats` and `version`.

use crate::time::ts;
use domain::event_type as dom;
use domain::organization::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One host of an event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventTypeHost {
    pub user_id: Uuid,
    pub username: Option<String>,
    pub name: Option<String>,
}

/// An event type as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = EventType)]
pub struct EventTypeDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: u32,
    pub active: bool,
    /// `individual`, `group` or `collective` (round robin).
    #[schema(example = "individual")]
    pub scheduling_type: String,
    pub hosts: Vec<EventTypeHost>,
    /// Public booking page: `<base>/<owner username>/<slug>`; null without a username.
    pub url: Option<String>,
    #[schema(example = "#7c3aed")]
    pub color: String,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub minimum_notice_hours: u32,
    /// `0` means no limit.
    pub future_limit_days: u32,
    /// The first host's schedule zone.
    pub timezone: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Addition: distance between candidate starts.
    pub slot_interval_minutes: u32,
    /// Addition: seats per slot for `group`, else null.
    pub seats: Option<u32>,
    /// Addition: ETag source.
    pub version: i64,
}

/// A location option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeLocation {
    /// e.g. `google_meet`, `phone`, `in_person`.
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// A question on the invitee form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventTypeQuestion {
    pub id: String,
    /// The key answers are sent under in `responses`.
    pub key: String,
    pub label: String,
    /// e.g. `text`, `textarea`, `phone`, `select`.
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
}

/// An event type with its form, locations, limits and policies (the GET-detail shape, also
/// the `event_type.*` webhook payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventTypeDetail {
    #[serde(flatten)]
    pub base: EventTypeDto,
    pub locations: Vec<EventTypeLocation>,
    pub questions: Vec<EventTypeQuestion>,
    pub max_bookings_per_day: Option<u32>,
    pub max_bookings_per_week: Option<u32>,
    pub max_bookings_per_month: Option<u32>,
    pub requires_confirmation: bool,
    pub allow_reschedule: bool,
    pub allow_cancel: bool,
}

/// What rendering an event type needs beyond the row.
#[derive(Debug, Clone, Copy)]
pub struct EventTypeContext<'a> {
    /// The hosts and the owner (others are ignored); missing users render as nulls.
    pub users: &'a [User],
    /// Without trailing slash.
    pub public_base_url: &'a str,
    /// The first host's schedule zone name.
    pub timezone: Option<&'a str>,
}

impl EventTypeDto {
    /// Renders the list shape.
    pub fn from_domain(et: &dom::EventType, ctx: EventTypeContext<'_>) -> Self {
        let find = |id| ctx.users.iter().find(|u| u.id == id);
        let hosts = et
            .hosts
            .iter()
            .map(|h| {
                let u = find(h.user_id);
                EventTypeHost {
                    user_id: h.user_id.0,
                    username: u.and_then(|u| u.username.as_ref().map(|n| n.as_str().to_owned())),
                    name: u.and_then(User::display_name),
                }
            })
            .collect();
        let url = find(et.owner_user_id)
            .and_then(|u| u.username.as_ref())
            .map(|name| {
                format!(
                    "{}/{}/{}",
                    ctx.public_base_url.trim_end_matches('/'),
                    name.as_str(),
                    et.slug
                )
            });
        Self {
            id: et.id.0,
            slug: et.slug.clone(),
            title: et.title.clone(),
            description: et.description.clone(),
            duration_minutes: et.duration_minutes,
            active: et.active,
            scheduling_type: et.scheduling_type.as_str().to_owned(),
            hosts,
            url,
            color: et.color.clone(),
            buffer_before_minutes: et.buffer_before_minutes,
            buffer_after_minutes: et.buffer_after_minutes,
            minimum_notice_hours: et.minimum_notice_hours,
            future_limit_days: et.future_limit_days,
            timezone: ctx.timezone.map(str::to_owned),
            created_at: ts(et.created_at),
            updated_at: ts(et.updated_at),
            slot_interval_minutes: et.slot_interval_minutes,
            seats: (et.scheduling_type == dom::SchedulingType::Group).then_some(et.seats),
            version: et.version,
        }
    }
}

impl EventTypeDetail {
    /// Renders the detail shape.
    pub fn from_domain(et: &dom::EventType, ctx: EventTypeContext<'_>) -> Self {
        Self {
            base: EventTypeDto::from_domain(et, ctx),
            locations: et
                .locations
                .iter()
                .map(|l| EventTypeLocation {
                    kind: l.kind.clone(),
                    label: l.label.clone(),
                    value: l.value.clone(),
                })
                .collect(),
            questions: et
                .questions
                .iter()
                .map(|q| EventTypeQuestion {
                    id: q.id.clone(),
                    key: q.key.clone(),
                    label: q.label.clone(),
                    kind: q.kind.clone(),
                    required: q.required,
                })
                .collect(),
            max_bookings_per_day: et.limits.per_day,
            max_bookings_per_week: et.limits.per_week,
            max_bookings_per_month: et.limits.per_month,
            requires_confirmation: et.requires_confirmation,
            allow_reschedule: et.allow_reschedule,
            allow_cancel: et.allow_cancel,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::booking::tests::user;
    use domain::ids::*;
    use jiff::Timestamp;

    pub(crate) fn event_type() -> dom::EventType {
        dom::EventType {
            id: EventTypeId(Uuid::from_u128(3)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            owner_user_id: UserId(Uuid::from_u128(7)),
            slug: "intro-call".into(),
            title: "Intro call".into(),
            description: None,
            duration_minutes: 30,
            slot_interval_minutes: 30,
            active: true,
            scheduling_type: dom::SchedulingType::Individual,
            hosts: vec![dom::Host {
                user_id: UserId(Uuid::from_u128(7)),
                schedule_id: ScheduleId(Uuid::from_u128(8)),
            }],
            color: "#7c3aed".into(),
            buffer_before_minutes: 0,
            buffer_after_minutes: 5,
            minimum_notice_hours: 2,
            future_limit_days: 30,
            limits: dom::BookingLimits {
                per_day: Some(4),
                per_week: None,
                per_month: None,
            },
            seats: 1,
            requires_confirmation: false,
            allow_reschedule: true,
            allow_cancel: true,
            locations: vec![dom::Location {
                kind: "google_meet".into(),
                label: "Google Meet".into(),
                value: None,
            }],
            questions: vec![dom::Question {
                id: "q1".into(),
                key: "company".into(),
                label: "Company".into(),
                kind: "text".into(),
                required: false,
            }],
            version: 2,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: "2026-05-20T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn detail_has_every_contract_field_flat() {
        let users = [user()];
        let ctx = EventTypeContext {
            users: &users,
            public_base_url: "https://api.example.com/",
            timezone: Some("Europe/London"),
        };
        let v = serde_json::to_value(EventTypeDetail::from_domain(&event_type(), ctx)).unwrap();
        assert_eq!(v["url"], "https://api.example.com/ada/intro-call");
        assert_eq!(v["hosts"][0]["name"], "Ada Lovelace");
        assert_eq!(v["hosts"][0]["username"], "ada");
        assert_eq!(v["timezone"], "Europe/London");
        assert_eq!(v["updated_at"], "2026-05-20T10:00:00.000Z");
        assert_eq!(v["seats"], serde_json::Value::Null);
        assert_eq!(v["locations"][0]["type"], "google_meet");
        assert_eq!(v["questions"][0]["type"], "text");
        assert_eq!(v["max_bookings_per_day"], 4);
        assert_eq!(v["max_bookings_per_week"], serde_json::Value::Null);
        for key in [
            "id",
            "slug",
            "title",
            "description",
            "duration_minutes",
            "active",
            "scheduling_type",
            "color",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "minimum_notice_hours",
            "future_limit_days",
            "created_at",
            "requires_confirmation",
            "allow_reschedule",
            "allow_cancel",
            "max_bookings_per_month",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn url_is_null_without_owner_username() {
        let ctx = EventTypeContext {
            users: &[],
            public_base_url: "https://x",
            timezone: None,
        };
        let v = serde_json::to_value(EventTypeDto::from_domain(&event_type(), ctx)).unwrap();
        assert_eq!(v["url"], serde_json::Value::Null);
        assert_eq!(v["hosts"][0]["username"], serde_json::Value::Null);
    }
}
