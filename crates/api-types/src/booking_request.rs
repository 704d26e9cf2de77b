//! Request bodies of the booking writes (§3.8, §3.10–§3.12) and their conversion into domain
//! requests. Required fields are checked here (not by serde) so the error names the field.

use crate::WireFields;
use crate::json::{metadata_from_wire, value_to_raw};
use crate::time::parse_instant;
use domain::booking::{Attendee, BookingPatch, IMMUTABLE_FIELDS, Utm};
use domain::booking_service::NewBooking;
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
    /// The event type named by the body; a 422 naming `event_type_id` when neither form is
    /// given (or the slug form is too long).
    pub fn event_type_ref(&self) -> Result<EventTypeRef, FieldErrors> {
        let mut e = FieldErrors::default();
        for (f, v) in [
            ("username", &self.username),
            ("event_slug", &self.event_slug),
        ] {
            if let Some(v) = v {
                max_chars(&mut e, f, v, 127);
            }
        }
        let r = event_type_ref(
            self.event_type_id,
            self.username.as_deref(),
            self.event_slug.as_deref(),
        );
        if r.is_none() {
            e.push(
                "event_type_id",
                "give event_type_id, or username and event_slug",
            );
        }
        e.finish(())?;
        r.ok_or_else(FieldErrors::default)
    }

    /// The domain request; field errors carry wire names (`start`, `attendee.email`, …).
    pub fn into_new_booking(self) -> Result<NewBooking, FieldErrors> {
        let mut e = FieldErrors::default();
        let start = required_instant(&mut e, "start", self.start.as_deref());
        let attendee = match self.attendee {
            None => {
                e.push("attendee", "is required");
                None
            }
            Some(a) => attendee(&mut e, a),
        };
        let (Some(start), Some(attendee)) = (start, attendee) else {
            return Err(e);
        };
        e.finish(())?;
        Ok(NewBooking {
            start,
            timezone: self.timezone,
            attendee,
            guests: self.guests.unwrap_or_default(),
            metadata: self.metadata.as_ref().map(metadata_from_wire),
            responses: self.responses.map(|r| value_to_raw(&Value::Object(r))),
            utm: Utm {
                source: self.utm_source,
                medium: self.utm_medium,
                campaign: self.utm_campaign,
            },
        })
    }
}

fn required_instant(e: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<Timestamp> {
    match v {
        None => {
            e.push(field, "is required");
            None
        }
        Some(s) => match parse_instant(s) {
            Ok(t) => Some(t),
            Err(m) => {
                e.push(field, m);
                None
            }
        },
    }
}

fn attendee(e: &mut FieldErrors, a: AttendeeInput) -> Option<Attendee> {
    let Some(email) = a.email else {
        e.push("attendee.email", "is required");
        return None;
    };
    let name = a.name.clone().unwrap_or_else(|| {
        let joined = format!(
            "{} {}",
            a.first_name.as_deref().unwrap_or(""),
            a.last_name.as_deref().unwrap_or("")
        );
        let joined = joined.trim();
        if joined.is_empty() {
            email.split('@').next().unwrap_or("").to_owned()
        } else {
            joined.to_owned()
        }
    });
    Some(Attendee {
        email,
        name,
        first_name: a.first_name,
        last_name: a.last_name,
        phone: a.phone,
        timezone: a.timezone,
        sms_opt_in: a.sms_opt_in.unwrap_or(false),
    })
}

/// `POST /v1/bookings/{uid}/cancel` (body optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CancelRequest {
    /// ≤ 1024 characters; shown to the attendee.
    pub reason: Option<String>,
}

impl WireFields for CancelRequest {
    const FIELDS: &'static [&'static str] = &["reason"];
}

/// `POST /v1/bookings/{uid}/reschedule`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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
    /// The new start, or a 422 naming `start`.
    pub fn start(&self) -> Result<Timestamp, FieldErrors> {
        let mut e = FieldErrors::default();
        let t = required_instant(&mut e, "start", self.start.as_deref());
        e.finish(())?;
        t.ok_or_else(FieldErrors::default)
    }
}

/// `PATCH /v1/bookings/{uid}`: only these three fields are writable.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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
    /// The domain patch.
    pub fn into_patch(self) -> BookingPatch {
        BookingPatch {
            metadata: self.metadata.as_ref().map(metadata_from_wire),
            responses: self.responses.map(|r| value_to_raw(&Value::Object(r))),
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
            req(json!({"event_type_id": id})).event_type_ref().unwrap(),
            EventTypeRef::Id(EventTypeId(id))
        );
        assert_eq!(
            req(json!({"username": "ada", "event_slug": "intro"}))
                .event_type_ref()
                .unwrap(),
            EventTypeRef::Slug {
                username: "ada".into(),
                slug: "intro".into()
            }
        );
        let e = req(json!({"username": "ada"}))
            .event_type_ref()
            .unwrap_err();
        assert_eq!(e.0[0].field, "event_type_id");
    }

    #[test]
    fn create_converts_and_names_bad_fields() {
        let nb = req(json!({
            "start": "2026-05-20T12:00:00+02:00",
            "attendee": {"email": "bob@example.com", "first_name": "Bob", "last_name": "Stone"},
            "metadata": {"a": "x", "b": 2},
            "responses": {"company": "ACME"},
            "utm_source": "news",
            "guests": ["eve@example.com"]
        }))
        .into_new_booking()
        .unwrap();
        assert_eq!(nb.start.to_string(), "2026-05-20T10:00:00Z");
        assert_eq!(nb.attendee.name, "Bob Stone");
        assert_eq!(nb.utm.source.as_deref(), Some("news"));
        assert_eq!(nb.responses.unwrap().0, r#"{"company":"ACME"}"#);
        assert_eq!(nb.metadata.unwrap().0.len(), 2);

        let e = req(json!({"start": "soon", "attendee": {}}))
            .into_new_booking()
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["start", "attendee.email"]);
        let e = req(json!({})).into_new_booking().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["start", "attendee"]);
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
        let patch = p.into_patch();
        assert_eq!(patch.attendee_name.as_deref(), Some("Z"));
        assert!(patch.responses.is_none());
        let r: RescheduleRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(r.start().unwrap_err().0[0].field, "start");
    }
}
