//! The delivery request body and its signatures.
//!
//! Body (§4.3): `{"id":"evt_<uuid>","event":"<dot name>","createdAt":"<ms UTC>",
//! "apiVersion":"2026-04-01","data":<data>}` in exactly that key order, rendered from the
//! stored delivery so every retry sends the same bytes.
//!
//! Signatures:
//! - `X-42min-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over `"<t>.<body>"`,
//!   keyed by the whole `whsec_…` string (§4.4).
//! - Standard Webhooks (§7.2): `webhook-id` (the `dlv_` id), `webhook-timestamp` (`t`) and
//!   `webhook-signature: v1,<base64 HMAC-SHA256>` over `"<id>.<t>.<body>"`, keyed by the
//!   base64-decoded part after `whsec_`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domain::webhook::Delivery;
use ring::hmac;

/// The envelope's `apiVersion`.
pub const API_VERSION: &str = "2026-04-01";

/// `evt_<uuid>`.
pub fn event_id(d: &Delivery) -> String {
    format!("evt_{}", d.event_id.0)
}

/// `dlv_<uuid>`.
pub fn delivery_id(d: &Delivery) -> String {
    format!("dlv_{}", d.id.0)
}

/// The request body.
pub fn envelope(d: &Delivery) -> String {
    let event = serde_json::Value::String(d.event.clone()).to_string();
    format!(
        "{{\"id\":\"{}\",\"event\":{},\"createdAt\":\"{}\",\"apiVersion\":\"{API_VERSION}\",\"data\":{}}}",
        event_id(d),
        event,
        api_types::time::ts(d.event_created_at),
        d.data
    )
}

/// `X-42min-Webhook-Signature` for `body` sent at `t`.
pub fn signature_42min(secret: &str, t: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// Verifies an `X-42min-Webhook-Signature` header value (keys in any order, constant time).
pub fn verify_42min(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Some(mac) = decode_hex(&v1) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = t.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    hmac::verify(&key, &msg, &mac).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `webhook-signature` for message `id` sent at `t`; `None` when the secret is not
/// `whsec_<base64>`.
pub fn signature_standard(secret: &str, id: &str, t: i64, body: &[u8]) -> Option<String> {
    let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key_bytes = STANDARD.decode(raw).ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    Some(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// Every header of one attempt (names lowercase), the body's signatures included.
pub fn headers(
    d: &Delivery,
    secret: &str,
    attempt: u32,
    t: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let id = delivery_id(d);
    let mut h = vec![
        ("content-type", "application/json".to_owned()),
        (
            "user-agent",
            concat!("Slotbook-Webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        (
            "x-42min-webhook-signature",
            signature_42min(secret, t, body),
        ),
        ("x-42min-webhook-event", d.event.clone()),
        ("x-42min-webhook-id", id.clone()),
        ("x-42min-webhook-attempt", attempt.to_string()),
        ("webhook-timestamp", t.to_string()),
    ];
    if let Some(sig) = signature_standard(secret, &id, t, body) {
        h.push(("webhook-signature", sig));
    }
    h.push(("webhook-id", id));
    h
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use domain::ids::{OrganizationId, OutboxId};
    use domain::webhook::{DeliveryId, DeliveryState, WebhookId};
    use uuid::Uuid;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn delivery() -> Delivery {
        Delivery {
            id: DeliveryId(Uuid::from_u128(1)),
            organization_id: OrganizationId(Uuid::nil()),
            webhook_id: WebhookId(Uuid::nil()),
            event_id: OutboxId(Uuid::from_u128(2)),
            event: "booking.created".into(),
            event_created_at: "2026-09-09T12:00:00Z".parse().unwrap(),
            data: "{\"booking\":{}}".into(),
            attempts: 0,
            state: DeliveryState::Pending,
            next_attempt_at: None,
            status_code: None,
            error: None,
            delivered_at: None,
            last_attempt_at: None,
            created_at: "2026-09-09T12:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn envelope_is_byte_exact() {
        assert_eq!(
            envelope(&delivery()),
            "{\"id\":\"evt_00000000-0000-0000-0000-000000000002\",\"event\":\"booking.created\",\
             \"createdAt\":\"2026-09-09T12:00:00.000Z\",\"apiVersion\":\"2026-04-01\",\"data\":{\"booking\":{}}}"
        );
    }

    #[test]
    fn the_42min_signature_verifies_and_tampering_fails() {
        let body = envelope(&delivery());
        let h = signature_42min(SECRET, 1_700_000_000, body.as_bytes());
        assert!(verify_42min(SECRET, &h, body.as_bytes()));
        let (t, v) = h.split_once(',').unwrap();
        assert!(
            verify_42min(SECRET, &format!("{v},{t}"), body.as_bytes()),
            "order-free"
        );
        let mut tampered = body.clone().into_bytes();
        tampered[10] ^= 1;
        assert!(!verify_42min(SECRET, &h, &tampered));
        assert!(!verify_42min(
            SECRET,
            &h.replace("t=1700000000", "t=1700000001"),
            body.as_bytes()
        ));
        assert!(!verify_42min(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx",
            &h,
            body.as_bytes()
        ));
    }

    #[test]
    fn the_standard_signature_matches_the_reference_library() {
        let body = envelope(&delivery());
        let wh = standardwebhooks::Webhook::new(SECRET).unwrap();
        let want = wh.sign("dlv_x", 1_700_000_000, body.as_bytes()).unwrap();
        assert_eq!(
            signature_standard(SECRET, "dlv_x", 1_700_000_000, body.as_bytes()).unwrap(),
            want
        );
    }
}
