//! `Idempotency-Key` on the four booking writes (§2.8, §6.1.10, §6.3): required, replayed,
//! conflicting, released after failure or when the request is dropped mid-write (client gone,
//! request timeout), scoped per credential, remembered 24 hours, and safe under concurrent
//! duplicates.

use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use testkit::time::{BERLIN, at, days_after, hours, wire};
use testkit::{ApiConfig, Resp, Stall, TestApp, both_backends, key, run_stalled};

both_backends!(
    every_booking_write_requires_a_key,
    key_length_is_limited,
    same_key_same_body_replays,
    same_key_different_body_conflicts,
    failed_attempt_releases_the_key,
    replays_cancel_patch_and_reschedule,
    keys_are_scoped_per_credential,
    keys_are_remembered_24_hours,
    concurrent_duplicates_execute_once,
);

/// Runs each named `async fn(TestApp, Arc<Stall>)` on both backends over a stalling store,
/// with `config`.
macro_rules! stalled {
    ($($name:ident: $cfg:expr),+ $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run_stalled(testkit::Backend::Sqlite, $cfg, super::$name).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run_stalled(testkit::Backend::Postgres, $cfg, super::$name).await
                }
            }
        )+
    };
}

stalled!(
    a_request_dropped_by_its_client_releases_its_key: ApiConfig::default(),
    // The deadline covers authentication and rate limiting too, so it must leave room for the
    // retry and the count on a loaded machine; the stalled write waits past it regardless.
    a_request_that_timed_out_releases_its_key: ApiConfig {
        request_timeout: std::time::Duration::from_secs(2),
        ..ApiConfig::default()
    },
);

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

fn booking_body(app: &TestApp, hhmm: &str) -> Value {
    json!({
        "event_type_id": app.a.event_type_id,
        "start": wire(tomorrow(app, hhmm)),
        "attendee": {"email": "ann@example.com", "name": "Ann"},
    })
}

async fn count(app: &TestApp) -> usize {
    let r = app.a.api.get("/v1/bookings?limit=100").await;
    r.ok(200).as_array().map_or(0, Vec::len)
}

async fn raw_post(app: &TestApp, path: &str, body: &str, key: &str) -> Resp {
    app.a
        .api
        .request(
            Method::POST,
            path,
            &[
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            Some(body.as_bytes().to_vec()),
        )
        .await
}

async fn every_booking_write_requires_a_key(app: TestApp) {
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), None)
        .await;
    r.err(400, "missing_idempotency_key");
    assert_eq!(count(&app).await, 0, "nothing created");

    let b = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "11:00"))
        .await;
    let uid = b["uid"].as_str().expect("uid");
    app.a
        .api
        .post_json(&format!("/v1/bookings/{uid}/cancel"), &json!({}), None)
        .await
        .err(400, "missing_idempotency_key");
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/reschedule"),
            &json!({"start": wire(tomorrow(&app, "12:00"))}),
            None,
        )
        .await
        .err(400, "missing_idempotency_key");
    app.a
        .api
        .patch_json(
            &format!("/v1/bookings/{uid}"),
            &json!({"metadata": {"a": "b"}}),
            Some("\"1\""),
            None,
        )
        .await
        .err(400, "missing_idempotency_key");
    let g = app.get_booking(&app.a, uid).await;
    assert_eq!(g["version"], 1);
    assert_eq!(g["status"], "confirmed");
    assert!(g["metadata"].is_null() || g["metadata"].get("a").is_none());
    assert_eq!(count(&app).await, 1, "no reschedule happened");
}

async fn key_length_is_limited(app: TestApp) {
    let long = "k".repeat(256);
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&long))
        .await;
    r.assert_status(400);
    r.request_id();
    let empty = app
        .a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(""))
        .await;
    empty.assert_status(400);
    assert_eq!(count(&app).await, 0);
    let max = "k".repeat(255);
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&max))
        .await
        .ok(201);
}

async fn same_key_same_body_replays(app: TestApp) {
    let k = key();
    let start = wire(tomorrow(&app, "10:00"));
    let first = raw_post(
        &app,
        "/v1/bookings",
        &format!(
            r#"{{"event_type_id":"{}","start":"{start}","attendee":{{"email":"ann@example.com","name":"Ann"}}}}"#,
            app.a.event_type_id
        ),
        &k,
    )
    .await;
    let d1 = first.ok(201).clone();
    let second = raw_post(
        &app,
        "/v1/bookings",
        &format!(
            "{{\n  \"attendee\" : {{ \"name\" : \"Ann\", \"email\" : \"ann@example.com\" }},\n  \"start\" : \"{start}\",\n  \"event_type_id\" : \"{}\"\n}}\n",
            app.a.event_type_id
        ),
        &k,
    )
    .await;
    let d2 = second.ok(201);
    assert_eq!(d2, &d1, "the original response is replayed");
    assert_ne!(
        second.request_id(),
        first.request_id(),
        "the replay carries the new request's id"
    );
    assert_eq!(count(&app).await, 1, "work not redone");
}

async fn same_key_different_body_conflicts(app: TestApp) {
    let k = key();
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&k))
        .await
        .ok(201);
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "11:00"), Some(&k))
        .await;
    r.err(409, "idempotency_key_conflict");
    assert_eq!(count(&app).await, 1);
}

async fn failed_attempt_releases_the_key(app: TestApp) {
    let blocker = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    // A corrected retry with the same key.
    let k1 = key();
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&k1))
        .await
        .err(409, "slot_unavailable");
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "11:00"), Some(&k1))
        .await
        .ok(201);
    // The same request again after the obstacle is gone re-executes.
    let k2 = key();
    let body = booking_body(&app, "10:00");
    app.a
        .api
        .post_json("/v1/bookings", &body, Some(&k2))
        .await
        .err(409, "slot_unavailable");
    let uid = blocker["uid"].as_str().expect("uid");
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/cancel"),
            &json!({}),
            Some(&key()),
        )
        .await
        .ok(200);
    app.a
        .api
        .post_json("/v1/bookings", &body, Some(&k2))
        .await
        .ok(201);
    assert_eq!(count(&app).await, 3);
}

async fn replays_cancel_patch_and_reschedule(app: TestApp) {
    let one = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    let two = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "11:00"))
        .await;
    let u1 = one["uid"].as_str().expect("uid");
    let u2 = two["uid"].as_str().expect("uid");

    let k = key();
    let path = format!("/v1/bookings/{u1}");
    let body = json!({"metadata": {"a": "1"}});
    let p1 = app
        .a
        .api
        .patch_json(&path, &body, Some("\"1\""), Some(&k))
        .await;
    let d1 = p1.ok(200).clone();
    assert_eq!(d1["version"], 2);
    let p2 = app
        .a
        .api
        .patch_json(&path, &body, Some("\"1\""), Some(&k))
        .await;
    assert_eq!(p2.ok(200), &d1, "replayed, not a version conflict");
    assert_eq!(p2.etag(), "\"2\"", "the replay carries the original ETag");
    assert_eq!(app.get_booking(&app.a, u1).await["version"], 2);

    let k = key();
    let path = format!("/v1/bookings/{u1}/cancel");
    let c1 = app
        .a
        .api
        .post_json(&path, &json!({"reason": "r"}), Some(&k))
        .await;
    let d1 = c1.ok(200).clone();
    let c2 = app
        .a
        .api
        .post_json(&path, &json!({"reason": "r"}), Some(&k))
        .await;
    assert_eq!(c2.ok(200), &d1);
    app.a
        .api
        .post_json(&path, &json!({"reason": "other"}), Some(&k))
        .await
        .err(409, "idempotency_key_conflict");

    let k = key();
    let path = format!("/v1/bookings/{u2}/reschedule");
    let body = json!({"start": wire(tomorrow(&app, "15:00"))});
    let r1 = app.a.api.post_json(&path, &body, Some(&k)).await;
    let d1 = r1.ok(200).clone();
    let r2 = app.a.api.post_json(&path, &body, Some(&k)).await;
    assert_eq!(r2.ok(200)["uid"], d1["uid"], "the same new booking");
    assert_eq!(count(&app).await, 3, "one reschedule happened");
}

async fn keys_are_scoped_per_credential(app: TestApp) {
    let k = key();
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&k))
        .await
        .ok(201);
    let second = app.mint_token(&app.a, &["bookings:create"], None).await;
    app.client(&second.token)
        .post_json("/v1/bookings", &booking_body(&app, "11:00"), Some(&k))
        .await
        .ok(201);
    let body_b = json!({
        "event_type_id": app.b.event_type_id,
        "start": wire(tomorrow(&app, "12:00")),
        "attendee": {"email": "ann@example.com"},
    });
    app.b
        .api
        .post_json("/v1/bookings", &body_b, Some(&k))
        .await
        .ok(201);
    assert_eq!(count(&app).await, 2);
}

async fn keys_are_remembered_24_hours(app: TestApp) {
    let k = key();
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "10:00"), Some(&k))
        .await
        .ok(201);
    app.clock.advance(hours(23));
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "12:00"), Some(&k))
        .await
        .err(409, "idempotency_key_conflict");
    app.clock.advance(hours(2));
    app.a
        .api
        .post_json("/v1/bookings", &booking_body(&app, "12:00"), Some(&k))
        .await
        .ok(201);
    assert_eq!(count(&app).await, 2);
}

async fn concurrent_duplicates_execute_once(app: TestApp) {
    let k = key();
    let body = booking_body(&app, "10:00");
    let futures = (0..8).map(|_| {
        let api = app.a.api.clone();
        let body = body.clone();
        let k = k.clone();
        async move { api.post_json("/v1/bookings", &body, Some(&k)).await }
    });
    let results = futures::future::join_all(futures).await;
    let mut uid = None;
    for r in &results {
        if r.status == 201 {
            let u = r.ok(201)["uid"].clone();
            assert!(
                uid.get_or_insert(u.clone()) == &u,
                "one booking for all successes"
            );
        } else {
            r.err(409, "idempotency_in_progress");
            assert_eq!(r.header("retry-after"), Some("1"), "{}", r.describe());
        }
    }
    assert!(uid.is_some(), "at least the first request succeeds");
    assert_eq!(count(&app).await, 1);
}

/// Bounded wait for the stalled write to reach `begin` (after its key was reserved).
async fn reached_the_write(app: &TestApp, stall: &Stall) {
    tokio::time::timeout(std::time::Duration::from_secs(10), stall.entered())
        .await
        .expect("the booking write reached the store within 10 s");
    assert_eq!(app.reservations.open(), 1, "the key is reserved");
}

/// Sends a booking write that stalls in the store after its key is reserved, lets `drop_it`
/// end the request (the server drops it), then checks that a retry with the same key books
/// exactly once.
async fn dropped_then_retried(
    app: &TestApp,
    stall: &Stall,
    drop_it: impl AsyncFnOnce(tokio::task::JoinHandle<Resp>),
) {
    let body = booking_body(app, "10:00");
    let k = key();
    let client = app.a.api.clone();
    let (b, kk) = (body.clone(), k.clone());
    let request =
        tokio::spawn(async move { client.post_json("/v1/bookings", &b, Some(&kk)).await });
    reached_the_write(app, stall).await;
    drop_it(request).await;
    app.idempotency_settled().await;
    stall.open();
    let r = app.a.api.post_json("/v1/bookings", &body, Some(&k)).await;
    r.ok(201);
    assert_eq!(count(app).await, 1, "booked exactly once");
}

/// The client disconnects while its booking write waits in the store: the server drops the
/// request, its guard releases the key, and a retry with the same key books.
async fn a_request_dropped_by_its_client_releases_its_key(app: TestApp, stall: Arc<Stall>) {
    dropped_then_retried(&app, &stall, async |request| {
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
    })
    .await;
}

/// The server's request timeout fires while the booking write waits in the store: 503, the key
/// is released, and a retry with the same key books.
async fn a_request_that_timed_out_releases_its_key(app: TestApp, stall: Arc<Stall>) {
    dropped_then_retried(&app, &stall, async |request| {
        request.await.expect("the request task").assert_status(503);
    })
    .await;
}
