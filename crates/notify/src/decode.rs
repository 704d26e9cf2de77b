//! [`PayloadDecoder`]: the booking an outbox message is about, read from its payload (the
//! webhook envelope's `data`: `{"booking": {"id": "<uid>", …}, …}`).

use domain::ids::BookingUid;
use domain::notification_service::BookingRefDecoder;
use domain::ports::OutboxMessage;

/// Reads `data.booking.id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PayloadDecoder;

impl BookingRefDecoder for PayloadDecoder {
    fn booking_uid(&self, message: &OutboxMessage) -> Option<BookingUid> {
        let v: serde_json::Value = serde_json::from_str(&message.payload).ok()?;
        v.get("booking")?.get("id")?.as_str()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{OrganizationId, OutboxId};
    use uuid::Uuid;

    fn message(payload: &str) -> OutboxMessage {
        OutboxMessage {
            id: OutboxId(Uuid::nil()),
            organization_id: OrganizationId(Uuid::nil()),
            event: "booking.created".into(),
            payload: payload.into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn reads_the_booking_id_or_nothing() {
        let uid = "7c1e9a2f-5d3b-4e0a-9c21-6b4f1d2e8a90";
        let m = message(&format!(
            r#"{{"booking":{{"id":"{uid}","status":"accepted"}}}}"#
        ));
        assert_eq!(PayloadDecoder.booking_uid(&m), uid.parse().ok());
        for bad in [
            "",
            "{}",
            r#"{"booking":{}}"#,
            r#"{"booking":{"id":"x"}}"#,
            "[1]",
        ] {
            assert_eq!(PayloadDecoder.booking_uid(&message(bad)), None, "{bad}");
        }
    }
}
