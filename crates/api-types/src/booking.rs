//! The REST `Booking` object (§3.7), exactly the contract's table plus nothing hidden: the
//! webhook-only `reschedule_generation` stays out of it.

use crate::json::{metadata_to_wire, raw_to_value};
use crate::time::{opt_ts, ts};
use domain::booking as dom;
use domain::organization::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// `host` of a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingHost {
    pub user_id: Uuid,
    pub username: Option<String>,
    pub email: Option<String>,
}

/// One attendee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingAttendee {
    pub email: String,
    pub name: String,
    pub timezone: Option<String>,
}

/// One guest. Guests are given as bare addresses, so `name` is omitted (42min's schema types
/// it as a string; `null` would break strict clients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingGuest {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where the meeting happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingLocation {
    /// e.g. `google_meet`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Conferencing link.
    pub url: Option<String>,
    pub value: Option<String>,
}

/// A booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    pub uid: Uuid,
    /// ETag source; starts at 1.
    pub version: i64,
    pub event_type_id: Uuid,
    pub event_type_slug: Option<String>,
    pub title: Option<String>,
    /// `confirmed`, `pending`, `canceled` or `rescheduled`.
    #[schema(example = "confirmed")]
    pub status: String,
    #[schema(format = DateTime, example = "2026-05-20T10:00:00.000Z")]
    pub start_at: String,
    #[schema(format = DateTime)]
    pub end_at: String,
    pub timezone: String,
    pub host: Option<BookingHost>,
    pub attendees: Vec<BookingAttendee>,
    pub guests: Vec<BookingGuest>,
    pub location: Option<BookingLocation>,
    /// Caller data echoed unchanged.
    #[schema(value_type = Option<Object>)]
    pub metadata: Value,
    /// Invitee form answers keyed by question key; `null` in lists.
    #[schema(value_type = Option<Object>)]
    pub responses: Value,
    /// `synced`, `pending`, `failed` or `not_applicable`.
    pub calendar_sync_status: String,
    pub calendar_event_id: Option<String>,
    pub rescheduled_from_uid: Option<String>,
    #[schema(format = DateTime)]
    pub cancelled_at: Option<String>,
    pub cancellation_reason: Option<String>,
    #[schema(format = DateTime)]
    pub no_show_at: Option<String>,
    pub no_show_reason: Option<String>,
    /// Unreleased (series); always null.
    pub series_id: Option<String>,
    /// Unreleased (series); always null.
    pub series_index: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Booking {
    /// Renders a booking. `host` is the host user when it still exists; `with_responses` is
    /// true on single reads and writes, false in lists.
    pub fn from_domain(b: &dom::Booking, host: Option<&User>, with_responses: bool) -> Self {
        let host = Some(match host {
            Some(u) => BookingHost {
                user_id: u.id.0,
                username: u.username.as_ref().map(|n| n.as_str().to_owned()),
                email: Some(u.email.as_str().to_owned()),
            },
            None => BookingHost {
                user_id: b.host_user_id.0,
                username: None,
                email: None,
            },
        });
        Self {
            uid: b.uid.0,
            version: b.version,
            event_type_id: b.event_type_id.0,
            event_type_slug: b.event_type_slug.clone(),
            title: b.title.clone(),
            status: b.status.as_str().to_owned(),
            start_at: ts(b.start),
            end_at: ts(b.end),
            timezone: b.timezone.clone(),
            host,
            attendees: b
                .attendees
                .iter()
                .map(|a| BookingAttendee {
                    email: a.email.clone(),
                    name: a.name.clone(),
                    timezone: a.timezone.clone(),
                })
                .collect(),
            guests: b
                .guests
                .iter()
                .map(|g| BookingGuest {
                    email: g.clone(),
                    name: None,
                })
                .collect(),
            location: b.location.as_ref().map(|l| BookingLocation {
                kind: l.kind.clone(),
                url: l.url.clone(),
                value: l.value.clone(),
            }),
            metadata: b.metadata.as_ref().map_or(Value::Null, metadata_to_wire),
            responses: match (&b.responses, with_responses) {
                (Some(r), true) => raw_to_value(r),
                _ => Value::Null,
            },
            calendar_sync_status: b.calendar_sync_status.as_str().to_owned(),
            calendar_event_id: b.calendar_event_id.clone(),
            rescheduled_from_uid: b.rescheduled_from_uid.map(|u| u.to_string()),
            cancelled_at: opt_ts(b.cancelled_at),
            cancellation_reason: b.cancellation_reason.clone(),
            no_show_at: opt_ts(b.no_show_at),
            no_show_reason: b.no_show_reason.clone(),
            series_id: None,
            series_index: None,
            created_at: ts(b.created_at),
            updated_at: ts(b.updated_at),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use domain::ids::*;
    use domain::interval::Interval;
    use domain::organization::{Role, Username};
    use domain::validate::Email;
    use jiff::Timestamp;
    use serde_json::json;

    pub(crate) fn user() -> User {
        User {
            id: UserId(Uuid::from_u128(7)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            username: Some(Username::parse("ada").unwrap()),
            email: Email::parse("ada@example.com").unwrap(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            timezone: Some("Europe/London".into()),
            locale: None,
            avatar_url: None,
            role: Role::Owner,
            password_hash: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    pub(crate) fn booking() -> dom::Booking {
        let start: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-06-01T10:30:00Z".parse().unwrap();
        dom::Booking {
            uid: BookingUid(Uuid::from_u128(2)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            version: 3,
            event_type_id: EventTypeId(Uuid::from_u128(3)),
            event_type_slug: Some("intro-call".into()),
            title: Some("Intro call".into()),
            status: dom::BookingStatus::Canceled,
            start,
            end,
            blocked: Interval::new(start, end).unwrap(),
            timezone: "Europe/Berlin".into(),
            host_user_id: UserId(Uuid::from_u128(7)),
            attendees: vec![dom::Attendee {
                email: "bob@example.com".into(),
                name: "Bob".into(),
                first_name: None,
                last_name: None,
                phone: Some("+14155550123".into()),
                timezone: None,
                sms_opt_in: false,
            }],
            guests: vec!["eve@example.com".into()],
            location: Some(dom::BookingLocation {
                kind: Some("google_meet".into()),
                url: Some("https://meet.example/x".into()),
                value: None,
            }),
            metadata: Some(dom::Metadata(
                [("crm".to_string(), dom::MetadataValue::Text("1".into()))].into(),
            )),
            responses: Some(dom::RawJson(r#"{"company":"ACME"}"#.into())),
            utm: dom::Utm {
                source: Some("news".into()),
                medium: None,
                campaign: None,
            },
            calendar_sync_status: dom::CalendarSyncStatus::NotApplicable,
            calendar_event_id: None,
            rescheduled_from_uid: None,
            reschedule_generation: 0,
            cancelled_at: Some("2026-05-02T08:00:00Z".parse().unwrap()),
            cancellation_reason: Some("sick".into()),
            no_show_at: None,
            no_show_reason: None,
            rescheduled_at: None,
            created_at: "2026-05-01T00:00:00Z".parse().unwrap(),
            updated_at: "2026-05-02T08:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn renders_every_contract_field() {
        let v =
            serde_json::to_value(Booking::from_domain(&booking(), Some(&user()), true)).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "attendees",
                "calendar_event_id",
                "calendar_sync_status",
                "cancellation_reason",
                "cancelled_at",
                "created_at",
                "end_at",
                "event_type_id",
                "event_type_slug",
                "guests",
                "host",
                "location",
                "metadata",
                "no_show_at",
                "no_show_reason",
                "rescheduled_from_uid",
                "responses",
                "series_id",
                "series_index",
                "start_at",
                "status",
                "timezone",
                "title",
                "uid",
                "updated_at",
                "version",
            ]
        );
        assert_eq!(v["start_at"], "2026-06-01T10:00:00.000Z");
        assert_eq!(v["cancelled_at"], "2026-05-02T08:00:00.000Z");
        assert_eq!(
            v["host"],
            json!({"user_id": Uuid::from_u128(7), "username": "ada", "email": "ada@example.com"})
        );
        assert_eq!(v["guests"], json!([{"email": "eve@example.com"}]));
        assert_eq!(v["location"]["type"], "google_meet");
        assert_eq!(v["metadata"], json!({"crm": "1"}));
        assert_eq!(v["responses"], json!({"company": "ACME"}));
        assert_eq!(v["status"], "canceled");
    }

    #[test]
    fn lists_hide_responses_and_missing_hosts_keep_their_id() {
        let v = serde_json::to_value(Booking::from_domain(&booking(), None, false)).unwrap();
        assert_eq!(v["responses"], Value::Null);
        assert_eq!(
            v["host"],
            json!({"user_id": Uuid::from_u128(7), "username": null, "email": null})
        );
    }
}
