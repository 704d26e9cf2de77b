//! Request bodies of the booking writes (§3.8, §3.10–§3.12) and their conversion into domain
//! requests. Required fields are checked here (not by serde) so the error names the field.

use crate::WireFields;
use crate::json::{metadata_from_wire, responses_from_wire};
use crate::time::parse_instant;
use domain::booking::{IMMUTABLE_FIELDS, Utm};
use domain::booking_service::{AttendeeDraft, BookingDraft, PatchDraft, RescheduleDraft};
use domain::ids::EventTypeId;
use domain::validate::{FieldErrors, max_chars};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

pub use domain::event_type::EventTypeRef;

/// Resolves `event_type_id` | `username` + `event_slug`; `None` when neither is given. The id
/// wins when both are present.
pub fn event_type_ref(
    event_type_id: Option<Uuid>,
    username: Option<&str>,
    event_slug: Option<&str>,
) -> Option<EventTypeRef> {
    match (event_type_id, username, event_slug) {
        (Some(id), _, _) => Some(EventTypeRef::Id(EventTypeId(id))),
        (None, Some(u), Some(s)) if !u.is_empty() && !s.is_empty() => Some(EventTypeRef::Slug {
            username: u.to_owned(),
            slug: s.to_owned(),
        }),
        _ => None,
    }
}

/// The person booking.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeInput {
    /// Required; ASCII, deliverable, ≤ 254 characters.
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// International format starting with `+`.
    pub phone: Option<String>,
    pub timezone: Option<String>,
    /// Requires `phone`.
    pub sms_opt_in: Option<bool>,
}

/// `POST /v1/bookings`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    /// The event type, or give `username` + `event_slug`.
    pub event_type_id: Option<Uuid>,
    pub username: Option<String>,
    pub event_slug: Option<String>,
    /// Required.
    #[schema(format = DateTime, example = "2026-05-20T10:00:00Z")]
    pub start: Option<String>,
    /// IANA zone the attendee sees.
    pub timezone: Option<String>,
    /// Required.
    pub attendee: Option<AttendeeInput>,
    /// E-mail addresses (at most 10).
    pub guests: Option<Vec<String>>,
    /// Free-form; returned unchanged.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Answers keyed by question key.
    #[schema(value_type = Option<Object>)]
    pub responses: Option<Map<String, Value>>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
}

impl WireFields for CreateBookingRequest {
    const FIELDS: &'static [&'static str] = &[
        "event_type_id",
        "username",
        "event_slug",
        "start",
        "timezone",
        "attendee",
        "guests",
        "metadata",
        "responses",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ];
}

impl CreateBookingRequest {
    /// The request as the domain's draft. What cannot be read here (a `start` that is no
    /// date-time, an over-long `username` or `event_slug`) goes into `rejected`; every rule
    /// is the domain's (`domain::booking_input`), which reports every failing field at once.
    pub fn into_draft(self) -> BookingDraft {
        let mut rejected = FieldErrors::default();
        for (f, v) in [
            ("username", &self.username),
            ("event_slug", &self.event_slug),
        ] {
            if let Some(v) = v {
                max_chars(&mut rejected, f, v, 127);
            }
        }
        let event_type = event_type_ref(
            self.event_type_id,
            self.username.as_deref(),
            self.event_slug.as_deref(),
        );
        let start = self
            .start
            .as_deref()
            .and_then(|s| instant(&mut rejected, "start", s));
        BookingDraft {
            event_type,
            start,
            timezone: self.timezone,
            attendee: self.attendee.map(|a| AttendeeDraft {
                email: a.email,
                name: a.name,
                first_name: a.first_name,
                last_name: a.last_name,
                phone: a.phone,
                timezone: a.timezone,
                sms_opt_in: a.sms_opt_in.unwrap_or(false),
            }),
            guests: self.guests.unwrap_or_default(),
            metadata: self.metadata.as_ref().map(metadata_from_wire),
            responses: self.responses.as_ref().map(responses_from_wire),
            utm: Utm {
                source: self.utm_source,
                medium: self.utm_medium,
                campaign: self.utm_campaign,
            },
            rejected,
        }
    }
}

/// Parses a wire instant, recording why it is unreadable.
fn instant(e: &mut FieldErrors, field: &str, s: &str) -> Option<Timestamp> {
    match parse_instant(s) {
        Ok(t) => Some(t),
        Err(m) => {
            e.push(field, m);
            None
        }
    }
}

/// `POST /v1/bookings/{uid}/cancel` (body optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// ≤ 1024 characters; shown to the attendee.
    pub reason: Option<String>,
}

impl WireFields for CancelRequest {
    const FIELDS: &'static [&'static str] = &["reason"];
}

/// `POST /v1/bookings/{uid}/confirm` (body optional; no fields).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {}

impl WireFields for ConfirmRequest {
    const FIELDS: &'static [&'static str] = &[];
}

/// `POST /v1/bookings/{uid}/decline` (body optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// ≤ 1024 characters; shown to the attendee as the cancellation reason.
    pub reason: Option<String>,
}

impl WireFields for DeclineRequest {
    const FIELDS: &'static [&'static str] = &["reason"];
}

/// `POST /v1/bookings/{uid}/reschedule`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// Required: the new start.
    #[schema(format = DateTime)]
    pub start: Option<String>,
    pub timezone: Option<String>,
    /// ≤ 1024 characters; shown to the attendee.
    pub reason: Option<String>,
}

impl WireFields for RescheduleRequest {
    const FIELDS: &'static [&'static str] = &["start", "timezone", "reason"];
}

impl RescheduleRequest {
    /// The move as the domain's draft (an unreadable `start` goes into `rejected`).
    pub fn into_draft(self) -> RescheduleDraft {
        let mut rejected = FieldErrors::default();
        let start = self
            .start
            .as_deref()
            .and_then(|s| instant(&mut rejected, "start", s));
        RescheduleDraft {
            start,
            timezone: self.timezone,
            reason: self.reason,
            rejected,
        }
    }
}

/// `PATCH /v1/bookings/{uid}`: only these three fields are writable.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBookingRequest {
    /// Shallow-merged into the stored metadata (keys cannot be removed).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Replaces the stored answers entirely.
    #[schema(value_type = Option<Object>)]
    pub responses: Option<Map<String, Value>>,
    /// Truncated to 200 characters.
    pub attendee_name: Option<String>,
}

impl WireFields for PatchBookingRequest {
    const FIELDS: &'static [&'static str] = &["metadata", "responses", "attendee_name"];
}

impl PatchBookingRequest {
    /// The patch as the domain's draft (checked by the booking service against the booking).
    pub fn into_draft(self) -> PatchDraft {
        PatchDraft {
            metadata: self.metadata.as_ref().map(metadata_from_wire),
            responses: self.responses.as_ref().map(responses_from_wire),
            attendee_name: self.attendee_name,
        }
    }
}

/// The immutable fields (§3.10) a raw PATCH body writes, in the contract's order. Check this
/// on the raw body before unknown fields and parsing, so `422 field_immutable` wins.
pub fn immutable_fields_in(raw: &Value) -> Vec<&'static str> {
    match raw {
        Value::Object(map) => IMMUTABLE_FIELDS
            .iter()
            .copied()
            .filter(|f| map.contains_key(*f))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> CreateBookingRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn immutable_fields_are_found_in_contract_order() {
        let raw = json!({"version": 2, "metadata": {}, "start": "x", "uid": "y", "foo": 1});
        assert_eq!(immutable_fields_in(&raw), vec!["start", "uid", "version"]);
        assert!(immutable_fields_in(&json!({"attendee_name": "A"})).is_empty());
        assert!(immutable_fields_in(&json!([1])).is_empty());
    }

    #[test]
    fn event_type_is_named_by_id_or_username_and_slug() {
        let id = Uuid::from_u128(9);
        assert_eq!(
            req(json!({"event_type_id": id})).into_draft().event_type,
            Some(EventTypeRef::Id(EventTypeId(id)))
        );
        assert_eq!(
            req(json!({"username": "ada", "event_slug": "intro"}))
                .into_draft()
                .event_type,
            Some(EventTypeRef::Slug {
                username: "ada".into(),
                slug: "intro".into()
            })
        );
        assert_eq!(
            req(json!({"username": "ada"})).into_draft().event_type,
            None
        );
        let d = req(json!({"username": "a".repeat(128), "event_slug": "x"})).into_draft();
        assert_eq!(d.rejected.0[0].field, "username");
    }

    #[test]
    fn create_converts_and_keeps_what_it_cannot_read() {
        let d = req(json!({
            "start": "2026-05-20T12:00:00+02:00",
            "attendee": {"email": "bob@example.com", "first_name": "Bob", "sms_opt_in": true},
            "metadata": {"a": "x", "b": 2},
            "responses": {"company": "ACME", "size": 3},
            "utm_source": "news",
            "guests": ["eve@example.com"]
        }))
        .into_draft();
        assert_eq!(d.start.unwrap().to_string(), "2026-05-20T10:00:00Z");
        let a = d.attendee.unwrap();
        assert_eq!(a.name, None, "the default name is the domain's rule");
        assert!(a.sms_opt_in);
        assert_eq!(d.utm.source.as_deref(), Some("news"));
        assert_eq!(
            d.responses.unwrap().to_json().0,
            r#"{"company":"ACME","size":3}"#
        );
        assert_eq!(d.metadata.unwrap().0.len(), 2);
        assert!(d.rejected.is_empty());

        let d = req(json!({"start": "soon", "attendee": {}})).into_draft();
        assert_eq!(d.start, None);
        assert_eq!(d.rejected.0[0].field, "start");
    }

    #[test]
    fn nested_unknown_fields_are_rejected() {
        let r: Result<CreateBookingRequest, _> =
            serde_json::from_value(json!({"attendee": {"email": "a@b.co", "role": "admin"}}));
        assert!(r.is_err());
    }

    #[test]
    fn patch_and_reschedule() {
        let p: PatchBookingRequest =
            serde_json::from_value(json!({"metadata": {"k": "v"}, "attendee_name": "Z"})).unwrap();
        let patch = p.into_draft();
        assert_eq!(patch.attendee_name.as_deref(), Some("Z"));
        assert!(patch.responses.is_none());
        let r: RescheduleRequest = serde_json::from_value(json!({"start": "x"})).unwrap();
        let d = r.into_draft();
        assert_eq!((d.start, d.rejected.0[0].field.as_str()), (None, "start"));
    }
}
