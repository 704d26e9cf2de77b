//! `Idempotency-Key` on the four booking writes (§2.8, §6.1.10, §6.3): required, replayed,
//! conflicting, released after failure or when the request is dropped mid-write (client gone,
//! request timeout), retryable after the short lease when a crashed process left its
//! reservation behind, never completed by a late request whose key was taken over, scoped per
//! credential, remembered 24 hours, and safe under concurrent duplicates.

use domain::ports::{IdempotencyKey, ReplayRecord, ReservedKey};
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

both_backends!(
    config = short_timeouts();
    an_abandoned_reservation_is_retryable_after_the_short_lease,
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
    // A request timeout long enough that the held request never times out on a loaded
    // machine; its lease (11.5 s) passes on the test clock only.
    a_late_request_cannot_complete_a_taken_over_key: ApiConfig {
        request_timeout: std::time::Duration::from_secs(10),
        ..short_timeouts()
    },
);

/// A server with a 2 s request timeout and a 1.5 s margin (acquire + lock timeouts): its
/// idempotency lease is 3.5 s.
fn short_timeouts() -> ApiConfig {
    ApiConfig {
        request_timeout: std::time::Duration::from_secs(2),
        idempotency_margin: std::time::Duration::from_millis(1500),
        ..ApiConfig::default()
    }
}

/// The lease of [`short_timeouts`].
const SHORT_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_millis(3500);

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

/// The reservation a crashed process leaves behind: reserved by `app.a`'s token for `body` at
/// the app's current time, never completed nor released.
async fn crashed_reservation(app: &TestApp, k: &str, body: &Value) -> ReservedKey {
    let key = IdempotencyKey {
        organization_id: domain::OrganizationId(app.a.org_id),
        owner: format!("pat:{}", app.a.token.id),
        key: k.to_owned(),
    };
    let fp = http_api::idempotency::fingerprint("POST", "/v1/bookings", body);
    let outcome = app
        .store
        .reserve(&key, &fp, app.now(), SHORT_LEASE)
        .await
        .expect("reserving");
    ReservedKey {
        nonce: outcome.nonce().expect("the key was free"),
        key,
    }
}

/// A process was killed after reserving a key (no release ever comes): retries get
/// `409 idempotency_in_progress` until the lease derived from the server's timeouts
/// (request 2 s + margin 1.5 s) is over, not for minutes; then the retry books, exactly once,
/// and the dead process's nonce can no longer complete or release the key.
async fn an_abandoned_reservation_is_retryable_after_the_short_lease(app: TestApp) {
    assert_eq!(short_timeouts().idempotency_lease(), SHORT_LEASE);
    let body = booking_body(&app, "10:00");
    let k = key();
    let dead = crashed_reservation(&app, &k, &body).await;

    let r = app.a.api.post_json("/v1/bookings", &body, Some(&k)).await;
    r.err(409, "idempotency_in_progress");
    assert_eq!(r.header("retry-after"), Some("1"), "{}", r.describe());
    // Still held at the end of the lease (the clock is the test's: no waiting).
    app.clock.advance(SHORT_LEASE);
    app.a
        .api
        .post_json("/v1/bookings", &body, Some(&k))
        .await
        .err(409, "idempotency_in_progress");
    // Just after it, the retry takes the key over and books.
    app.clock.advance(jiff::SignedDuration::from_millis(1));
    let booked = app.a.api.post_json("/v1/bookings", &body, Some(&k)).await;
    let d = booked.ok(201).clone();
    assert_eq!(count(&app).await, 1, "booked exactly once");

    // The dead process's nonce touches nothing: the key keeps replaying the retry's booking.
    app.store
        .release(&dead)
        .await
        .expect("a stale release is harmless");
    let late = ReplayRecord("{}".to_owned());
    assert!(app.store.complete(&dead, &late).await.is_err());
    let again = app.a.api.post_json("/v1/bookings", &body, Some(&k)).await;
    assert_eq!(again.ok(201), &d, "the retry's response is replayed");
    assert_eq!(count(&app).await, 1);
}

/// A request held mid-write outlives its lease; another request with the same key takes it
/// over. The late one proceeds first: its booking transaction cannot complete the key (its
/// nonce is stale), so it commits nothing and answers `409 idempotency_in_progress`, and its
/// release leaves the new owner's reservation alone. The new owner then books: exactly one
/// booking exists and the key replays the new owner's response.
async fn a_late_request_cannot_complete_a_taken_over_key(app: TestApp, stall: Arc<Stall>) {
    let lease = ApiConfig {
        request_timeout: std::time::Duration::from_secs(10),
        ..short_timeouts()
    }
    .idempotency_lease();
    let body = booking_body(&app, "10:00");
    let k = key();
    let spawn = |b: Value, kk: String| {
        let client = app.a.api.clone();
        tokio::spawn(async move { client.post_json("/v1/bookings", &b, Some(&kk)).await })
    };
    let late = spawn(body.clone(), k.clone());
    reached_the_write(&app, &stall).await;
    // Its lease ends (on the test clock; the request is well within its real timeout).
    app.clock
        .advance(lease + jiff::SignedDuration::from_millis(1));
    let owner = spawn(body.clone(), k.clone());
    tokio::time::timeout(std::time::Duration::from_secs(10), stall.entered())
        .await
        .expect("the second request reached the write within 10 s");
    assert_eq!(
        app.reservations.open(),
        2,
        "both requests hold a reservation"
    );

    stall.let_one();
    let late = late.await.expect("the late request");
    late.err(409, "idempotency_in_progress");
    assert_eq!(late.header("retry-after"), Some("1"), "{}", late.describe());
    assert_eq!(count(&app).await, 0, "the late request committed nothing");

    stall.open();
    let owner = owner.await.expect("the new owner's request");
    let d = owner.ok(201).clone();
    app.idempotency_settled().await;
    assert_eq!(count(&app).await, 1, "only the new owner booked");
    let again = app.a.api.post_json("/v1/bookings", &body, Some(&k)).await;
    assert_eq!(again.ok(201), &d, "the key replays the new owner's booking");
}
