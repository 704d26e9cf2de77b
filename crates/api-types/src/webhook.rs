//! Webhook payloads (§4.3): the envelope `data` of each domain event, camelCase for bookings
//! (with the contractual snake_case `reschedule_generation`), the GET-detail shape for event
//! types. [`WebhookEncoder`] is the [`EventEncoder`] the server wires into the domain services.

use crate::event_type::{EventTypeContext, EventTypeDetail};
use crate::json::raw_to_value;
use crate::time::{opt_ts, ts};
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::organization::User;
use domain::ports::{DomainEvent, EventEncoder};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// `hostUser`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookHostUser {
    pub id: Option<Uuid>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// `data.booking` of booking events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBooking {
    pub id: Uuid,
    pub event_type_id: Uuid,
    pub event_type_name: Option<String>,
    pub start_time: String,
    pub end_time: String,
    pub timezone: String,
    pub status: String,
    pub invitee_name: String,
    pub invitee_email: String,
    pub invitee_phone: Option<String>,
    /// As the booking stored them (bare addresses).
    pub guests: Vec<String>,
    /// Keyed by question label.
    pub answers: Map<String, Value>,
    /// Keyed by question id.
    pub answers_by_id: Map<String, Value>,
    pub routing_form_answers: Option<Value>,
    pub url_params: Map<String, Value>,
    pub location: Option<String>,
    pub meet_link: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancelled_reason: Option<String>,
    pub no_show_at: Option<String>,
    pub no_show_reason: Option<String>,
    pub rescheduled_at: Option<String>,
    /// snake_case among camelCase: contractual.
    #[serde(rename = "reschedule_generation")]
    pub reschedule_generation: i32,
    pub host_user: Option<WebhookHostUser>,
    pub organization_id: Uuid,
    /// snake_case, unreleased series support: always present, `null` until series exist.
    #[serde(rename = "series_id")]
    pub series_id: Option<String>,
    #[serde(rename = "series_index")]
    pub series_index: Option<i32>,
}

impl WebhookBooking {
    /// Renders a booking of `event_type` whose host is `host` (when it still exists).
    pub fn new(b: &Booking, event_type: &EventType, host: Option<&User>) -> Self {
        let mut answers = Map::new();
        let mut answers_by_id = Map::new();
        if let Some(Value::Object(resp)) = b.responses.as_ref().map(raw_to_value) {
            for (key, value) in resp {
                match event_type.questions.iter().find(|q| q.key == key) {
                    Some(q) => {
                        answers.insert(q.label.clone(), value.clone());
                        answers_by_id.insert(q.id.clone(), value);
                    }
                    None => {
                        answers.insert(key.clone(), value.clone());
                        answers_by_id.insert(key, value);
                    }
                }
            }
        }
        let mut url_params = Map::new();
        for (k, v) in [
            ("utm_source", &b.utm.source),
            ("utm_medium", &b.utm.medium),
            ("utm_campaign", &b.utm.campaign),
        ] {
            if let Some(v) = v {
                url_params.insert(k.to_owned(), Value::String(v.clone()));
            }
        }
        let attendee = b.attendees.first();
        let location = b
            .location
            .as_ref()
            .and_then(|l| l.value.clone().or_else(|| l.kind.clone()));
        Self {
            id: b.uid.0,
            event_type_id: b.event_type_id.0,
            event_type_name: Some(event_type.title.clone()),
            start_time: ts(b.start),
            end_time: ts(b.end),
            timezone: b.timezone.clone(),
            status: b.status.as_str().to_owned(),
            invitee_name: attendee.map(|a| a.name.clone()).unwrap_or_default(),
            invitee_email: attendee.map(|a| a.email.clone()).unwrap_or_default(),
            invitee_phone: attendee.and_then(|a| a.phone.clone()),
            guests: b.guests.clone(),
            answers,
            answers_by_id,
            routing_form_answers: None,
            url_params,
            location,
            meet_link: b.location.as_ref().and_then(|l| l.url.clone()),
            cancelled_at: opt_ts(b.cancelled_at),
            cancelled_reason: b.cancellation_reason.clone(),
            no_show_at: opt_ts(b.no_show_at),
            no_show_reason: b.no_show_reason.clone(),
            rescheduled_at: opt_ts(b.rescheduled_at),
            reschedule_generation: b.reschedule_generation,
            host_user: host.map(|u| WebhookHostUser {
                id: Some(u.id.0),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                email: Some(u.email.as_str().to_owned()),
            }),
            organization_id: b.organization_id.0,
            series_id: None,
            series_index: None,
        }
    }
}

/// `data` of `event_type.updated` / `event_type.deleted`: exactly the GET-detail shape.
pub fn event_type_data(detail: &EventTypeDetail) -> Value {
    json!({ "event_type": detail })
}

/// Renders domain events into webhook `data` JSON.
#[derive(Debug, Clone)]
pub struct WebhookEncoder {
    /// Without trailing slash; for event types' `url`.
    pub public_base_url: String,
}

impl WebhookEncoder {
    pub fn new(public_base_url: impl Into<String>) -> Self {
        Self {
            public_base_url: public_base_url.into(),
        }
    }

    /// The `data` value of an event (parsed back from [`EventEncoder::encode`]'s text).
    pub fn data(&self, event: &DomainEvent<'_>) -> Value {
        serde_json::from_str(&self.encode(event)).unwrap_or(Value::Null)
    }

    /// The `data` JSON text, serialised straight from typed structs so that key order is
    /// the declaration order (a `serde_json::Value` would sort keys): `booking` first, then
    /// `previousBooking` or `changed_fields`; `event_type` in the GET detail's key order.
    fn render(&self, event: &DomainEvent<'_>) -> Result<String, serde_json::Error> {
        match event {
            DomainEvent::BookingCreated {
                booking: b,
                event_type,
                host,
            }
            | DomainEvent::BookingCanceled {
                booking: b,
                event_type,
                host,
            } => serde_json::to_string(&BookingData {
                booking: WebhookBooking::new(b, event_type, *host),
                previous_booking: None,
                changed_fields: None,
            }),
            DomainEvent::BookingUpdated {
                booking: b,
                event_type,
                host,
                changed_fields,
            } => serde_json::to_string(&BookingData {
                booking: WebhookBooking::new(b, event_type, *host),
                previous_booking: None,
                changed_fields: Some(changed_fields),
            }),
            DomainEvent::BookingRescheduled {
                booking: b,
                previous,
                event_type,
                host,
            } => serde_json::to_string(&BookingData {
                booking: WebhookBooking::new(b, event_type, *host),
                previous_booking: Some(PreviousBooking {
                    start_time: ts(previous.start),
                    end_time: ts(previous.end),
                    timezone: previous.timezone.clone(),
                }),
                changed_fields: None,
            }),
            DomainEvent::EventTypeUpdated {
                event_type,
                hosts,
                timezone,
            }
            | DomainEvent::EventTypeDeleted {
                event_type,
                hosts,
                timezone,
            } => {
                let detail = EventTypeDetail::from_domain(
                    event_type,
                    EventTypeContext {
                        users: hosts,
                        public_base_url: &self.public_base_url,
                        timezone: *timezone,
                    },
                );
                serde_json::to_string(&EventTypeData {
                    event_type: &detail,
                })
            }
        }
    }
}

/// `data` of booking events.
#[derive(Serialize)]
struct BookingData<'a> {
    booking: WebhookBooking,
    #[serde(rename = "previousBooking", skip_serializing_if = "Option::is_none")]
    previous_booking: Option<PreviousBooking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_fields: Option<&'a [&'static str]>,
}

/// `data.previousBooking` of `booking.rescheduled`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreviousBooking {
    start_time: String,
    end_time: String,
    timezone: String,
}

/// `data` of event-type events.
#[derive(Serialize)]
struct EventTypeData<'a> {
    event_type: &'a EventTypeDetail,
}

impl EventEncoder for WebhookEncoder {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        // Serialising these plain structs cannot fail (string keys, no maps of non-strings).
        self.render(event).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::tests::{booking, user};
    use crate::event_type::tests::event_type;

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    }

    #[test]
    fn booking_payload_has_exactly_the_contract_keys() {
        let (b, et, u) = (booking(), event_type(), user());
        let enc = WebhookEncoder::new("https://x");
        let v: Value = serde_json::from_str(&enc.encode(&DomainEvent::BookingCreated {
            booking: &b,
            event_type: &et,
            host: Some(&u),
        }))
        .unwrap();
        assert_eq!(keys(&v), vec!["booking"]);
        let wb = &v["booking"];
        let mut want = vec![
            "id",
            "eventTypeId",
            "eventTypeName",
            "startTime",
            "endTime",
            "timezone",
            "status",
            "inviteeName",
            "inviteeEmail",
            "inviteePhone",
            "guests",
            "answers",
            "answersById",
            "routingFormAnswers",
            "urlParams",
            "location",
            "meetLink",
            "cancelledAt",
            "cancelledReason",
            "noShowAt",
            "noShowReason",
            "rescheduledAt",
            "reschedule_generation",
            "hostUser",
            "organizationId",
            "series_id",
            "series_index",
        ];
        want.sort();
        assert_eq!(keys(wb), want);
        assert_eq!(wb["answers"], json!({"Company": "ACME"}));
        assert_eq!(wb["answersById"], json!({"q1": "ACME"}));
        assert_eq!(wb["urlParams"], json!({"utm_source": "news"}));
        assert_eq!(wb["routingFormAnswers"], Value::Null);
        assert_eq!(wb["meetLink"], "https://meet.example/x");
        assert_eq!(wb["location"], "google_meet");
        assert_eq!(wb["startTime"], "2026-06-01T10:00:00.000Z");
        assert_eq!(wb["inviteePhone"], "+14155550123");
        assert_eq!(wb["guests"], json!(["eve@example.com"]));
        assert_eq!(
            keys(&wb["hostUser"]),
            vec!["email", "firstName", "id", "lastName"]
        );
    }

    #[test]
    fn updated_and_rescheduled_carry_their_extras() {
        let (b, et) = (booking(), event_type());
        let enc = WebhookEncoder::new("https://x");
        let v = enc.data(&DomainEvent::BookingUpdated {
            booking: &b,
            event_type: &et,
            host: None,
            changed_fields: &["metadata", "attendee_name"],
        });
        assert_eq!(keys(&v), vec!["booking", "changed_fields"]);
        assert_eq!(v["changed_fields"], json!(["metadata", "attendee_name"]));
        assert_eq!(v["booking"]["hostUser"], Value::Null);
        let v = enc.data(&DomainEvent::BookingRescheduled {
            booking: &b,
            previous: &b,
            event_type: &et,
            host: None,
        });
        assert_eq!(keys(&v), vec!["booking", "previousBooking"]);
        assert_eq!(
            keys(&v["previousBooking"]),
            vec!["endTime", "startTime", "timezone"]
        );
    }

    #[test]
    fn event_type_events_use_the_detail_shape() {
        let et = event_type();
        let users = [user()];
        let enc = WebhookEncoder::new("https://api.example.com");
        let v = enc.data(&DomainEvent::EventTypeDeleted {
            event_type: &et,
            hosts: &users,
            timezone: Some("Europe/London"),
        });
        assert_eq!(keys(&v), vec!["event_type"]);
        let detail = EventTypeDetail::from_domain(
            &et,
            EventTypeContext {
                users: &users,
                public_base_url: "https://api.example.com",
                timezone: Some("Europe/London"),
            },
        );
        assert_eq!(v, event_type_data(&detail));
        assert_eq!(
            v["event_type"]["url"],
            "https://api.example.com/ada/intro-call"
        );
    }

    #[test]
    fn payload_text_keeps_declaration_order() {
        let et = event_type();
        let users = [user()];
        let enc = WebhookEncoder::new("https://api.example.com");
        let text = enc.encode(&DomainEvent::EventTypeUpdated {
            event_type: &et,
            hosts: &users,
            timezone: Some("Europe/London"),
        });
        let detail = EventTypeDetail::from_domain(
            &et,
            EventTypeContext {
                users: &users,
                public_base_url: "https://api.example.com",
                timezone: Some("Europe/London"),
            },
        );
        // byte-identical to the GET detail body's serialisation
        assert_eq!(
            text,
            format!(
                "{{\"event_type\":{}}}",
                serde_json::to_string(&detail).unwrap()
            )
        );
        let b = booking();
        let text = enc.encode(&DomainEvent::BookingUpdated {
            booking: &b,
            event_type: &et,
            host: None,
            changed_fields: &["metadata"],
        });
        assert!(text.starts_with("{\"booking\":{\"id\":"), "{text}");
        assert!(
            text.ends_with(
                ",\"series_id\":null,\"series_index\":null},\"changed_fields\":[\"metadata\"]}"
            ),
            "{text}"
        );
    }
}
