//! `pending` bookings (issue 17 item 11, ARCHITECTURE.md Decisions): an event type with
//! `requires_confirmation` creates bookings that hold their time until the host confirms
//! (`POST …/confirm`, `booking.updated`) or declines them (`POST …/decline`, `booking.canceled`,
//! the time is free again). Scope `bookings:update`; repeating a decision changes nothing;
//! deciding a booking that is not pending is `409 conflict`.

use serde_json::json;
use testkit::time::{BERLIN, at, days_after};
use testkit::{Receiver, TestApp, both_backends, key};
use uuid::Uuid;

both_backends!(
    hosts_confirm_pending_bookings,
    hosts_decline_pending_bookings_and_free_the_time,
    decisions_need_bookings_update_and_a_pending_booking,
);

async fn confirming_event_type(app: &TestApp) -> Uuid {
    let r = app
        .a
        .api
        .post_json(
            "/v1/event-types",
            &json!({"slug": "needs-ok", "title": "Needs OK", "duration_minutes": 30,
                    "requires_confirmation": true,
                    "hosts": [{"user_id": app.a.owner.user_id,
                               "schedule_id": app.a.owner.schedule_all_day}]}),
            None,
        )
        .await;
    let d = r.ok(201);
    assert_eq!(d["requires_confirmation"], true, "{}", r.describe());
    Uuid::parse_str(d["id"].as_str().expect("id")).expect("uuid")
}

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

async fn decide(app: &TestApp, uid: &str, what: &str, body: serde_json::Value) -> testkit::Resp {
    app.a
        .api
        .post_json(&format!("/v1/bookings/{uid}/{what}"), &body, Some(&key()))
        .await
}

async fn hosts_confirm_pending_bookings(app: TestApp) {
    let rx = Receiver::start().await;
    app.a
        .api
        .post_json(
            "/v1/webhooks",
            &json!({"url": rx.url("/hook"), "events": ["booking_updated", "booking_canceled"]}),
            None,
        )
        .await
        .ok(201);
    let et = confirming_event_type(&app).await;
    let b = app.book(&app.a, et, tomorrow(&app, "10:00")).await;
    assert_eq!(b["status"], "pending");
    let uid = b["uid"].as_str().expect("uid");
    // A pending booking holds its time.
    app.try_book(&app.a, et, tomorrow(&app, "10:00"), "x@example.com")
        .await
        .err(409, "slot_unavailable");

    let r = decide(&app, uid, "confirm", json!({})).await;
    let d = r.ok(200);
    assert_eq!(
        (d["status"].clone(), d["version"].clone()),
        (json!("confirmed"), json!(2))
    );
    let again = decide(&app, uid, "confirm", json!({})).await;
    assert_eq!(
        again.ok(200)["version"],
        2,
        "a repeated confirm changes nothing"
    );
    let g = app.get_booking(&app.a, uid).await;
    assert_eq!(g["status"], "confirmed");

    app.drain_webhooks().await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "one event for one change");
    assert_eq!(
        got[0].header("x-42min-webhook-event"),
        Some("booking.updated")
    );
    let payload = got[0].json();
    assert!(
        payload.to_string().contains("\"status\""),
        "the changed field is named: {payload}"
    );
    // Declining a confirmed booking is refused (cancel it instead).
    let r = decide(&app, uid, "decline", json!({})).await;
    let d = r.err(409, "conflict");
    assert_eq!(d["status"], "confirmed");
}

async fn hosts_decline_pending_bookings_and_free_the_time(app: TestApp) {
    let rx = Receiver::start().await;
    app.a
        .api
        .post_json(
            "/v1/webhooks",
            &json!({"url": rx.url("/hook"), "events": ["booking_canceled"]}),
            None,
        )
        .await
        .ok(201);
    let et = confirming_event_type(&app).await;
    let b = app.book(&app.a, et, tomorrow(&app, "11:00")).await;
    let uid = b["uid"].as_str().expect("uid");
    let r = decide(&app, uid, "decline", json!({"reason": "Fully booked"})).await;
    let d = r.ok(200);
    assert_eq!(d["status"], "canceled");
    assert_eq!(d["cancellation_reason"], "Fully booked");
    assert!(d["cancelled_at"].is_string(), "{d}");
    let again = decide(&app, uid, "decline", json!({})).await;
    assert_eq!(
        again.ok(200)["version"],
        d["version"],
        "a repeated decline changes nothing"
    );
    decide(&app, uid, "confirm", json!({}))
        .await
        .err(409, "conflict");
    // The time is free again.
    let r = app
        .try_book(&app.a, et, tomorrow(&app, "11:00"), "y@example.com")
        .await;
    assert_eq!(r.ok(201)["status"], "pending");
    app.drain_webhooks().await;
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("x-42min-webhook-event"),
        Some("booking.canceled")
    );
}

async fn decisions_need_bookings_update_and_a_pending_booking(app: TestApp) {
    let et = confirming_event_type(&app).await;
    let b = app.book(&app.a, et, tomorrow(&app, "12:00")).await;
    let uid = b["uid"].as_str().expect("uid");
    let t = app
        .mint_token(&app.a, &["bookings:read", "bookings:cancel"], None)
        .await;
    for what in ["confirm", "decline"] {
        let r = app
            .client(&t.token)
            .post_json(
                &format!("/v1/bookings/{uid}/{what}"),
                &json!({}),
                Some(&key()),
            )
            .await;
        r.err(403, "insufficient_scope");
    }
    assert_eq!(app.get_booking(&app.a, uid).await["status"], "pending");
    // Idempotency-Key is required, unknown fields are named, other uids are 404.
    app.a
        .api
        .post_json(&format!("/v1/bookings/{uid}/confirm"), &json!({}), None)
        .await
        .err(400, "missing_idempotency_key");
    let r = decide(&app, uid, "confirm", json!({"reason": "x"})).await;
    assert!(
        r.err(422, "validation_error")["fields"]
            .get("reason")
            .is_some()
    );
    decide(&app, &Uuid::new_v4().to_string(), "confirm", json!({}))
        .await
        .err(404, "booking_not_found");
    decide(&app, "not-a-uuid", "decline", json!({}))
        .await
        .err(404, "booking_not_found");
    app.b
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/confirm"),
            &json!({}),
            Some(&key()),
        )
        .await
        .err(404, "booking_not_found");
    assert_eq!(app.get_booking(&app.a, uid).await["status"], "pending");
}
