//! Webhooks (§4, §7.2): the management API with every error code it lists, the per-credential
//! sandbox, signed deliveries verified by two independent verifiers (a hand-written §4.4 check
//! over `hmac-sha256`, and the `standardwebhooks` crate), the retry schedule and auto-pause
//! under the test clock (drained synchronously), redirects not followed, event-type payloads
//! byte-identical to the GET detail, and the SSRF corpus refused at registration and at
//! delivery (strict policy, `allow_loopback_http = false`).
//!
//! Split by concept: `management` (the §4.1 API, errors, sandbox, pagination), `delivery`
//! (signatures, retries, auto-pause, redirects, payload bytes, the worker), `ssrf` (the corpus
//! under the strict policy), `zone` (a schedule's zone change emits `event_type.updated`),
//! `limits` (429 on every management endpoint); the shared helpers live here.

mod delivery;
mod limits;
mod management;
mod ssrf;
mod zone;

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, hours, mins};
use testkit::{Receiver, TestApp, both_backends};

const WEBHOOK_FIELDS: &[&str] = &[
    "id",
    "url",
    "events",
    "status",
    "description",
    "paused_reason",
    "last_delivery_at",
    "last_delivery_ok",
    "created_at",
    "updated_at",
];

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

/// The object's keys, sorted (serde_json maps sort; order is checked on text).
fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Asserts that the keys first appear in `text` in this order.
fn assert_key_order(text: &str, order: &[&str]) {
    let pos: Vec<usize> = order
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing in {text}"))
        })
        .collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "key order {order:?} in {text}"
    );
}

async fn create(app: &TestApp, url: &str, events: &[&str]) -> Value {
    app.a
        .api
        .post_json("/v1/webhooks", &json!({"url": url, "events": events}), None)
        .await
        .ok(201)
        .clone()
}

/// The §4.4 check written independently of the server (hmac-sha256 crate): parse by key,
/// recompute over `t.body` keyed by the whole secret string.
fn verify_42min(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_owned()),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut msg = t.into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    let mac = hmac_sha256::HMAC::mac(&msg, secret.as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    hex == v1
}

fn verify_standard(secret: &str, r: &testkit::Received, body: &[u8]) -> bool {
    let mut h = http::HeaderMap::new();
    for (k, v) in &r.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    }
    standardwebhooks::Webhook::new(secret)
        .and_then(|w| w.verify(body, &h))
        .is_ok()
}
