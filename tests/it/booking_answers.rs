//! What 42min's own OpenAPI file expects of booking answers (issue 17 item 13): cancelling a
//! booking that was since rescheduled answers its current state (ARCHITECTURE.md Decisions),
//! a guest given by bare e-mail has no `name: null`, and a PATCH without a body is
//! `400 invalid_request`, not a version bump.

use reqwest::Method;
use serde_json::json;
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends, key};

both_backends!(
    cancelling_a_rescheduled_booking_returns_its_current_state,
    bare_email_guests_have_no_null_name,
    patch_without_a_body_is_invalid_request,
);

async fn cancelling_a_rescheduled_booking_returns_its_current_state(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 1);
    let b = app
        .book(&app.a, app.a.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let old = b["uid"].as_str().expect("uid").to_owned();
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{old}/reschedule"),
            &json!({"start": wire(at(BERLIN, day, "14:00"))}),
            Some(&key()),
        )
        .await;
    let new = r.ok(200)["uid"].as_str().expect("uid").to_owned();
    let before = app.get_booking(&app.a, &old).await;
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{old}/cancel"),
            &json!({"reason": "too late"}),
            Some(&key()),
        )
        .await;
    let d = r.ok(200);
    assert_eq!(d["status"], "rescheduled", "{}", r.describe());
    assert_eq!(d["version"], before["version"], "nothing changed");
    assert_eq!(d["cancellation_reason"], before["cancellation_reason"]);
    let replacement = app.get_booking(&app.a, &new).await;
    assert_eq!(replacement["status"], "confirmed", "the replacement stays");
}

async fn bare_email_guests_have_no_null_name(app: TestApp) {
    let start = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"));
    let r = app
        .a
        .api
        .post_json(
            "/v1/bookings",
            &json!({"event_type_id": app.a.event_type_id, "start": start,
                    "attendee": {"email": "a@example.com"}, "guests": ["g@example.com"]}),
            Some(&key()),
        )
        .await;
    let d = r.ok(201).clone();
    assert_eq!(d["guests"], json!([{"email": "g@example.com"}]), "{d}");
    let uid = d["uid"].as_str().expect("uid");
    let g = app.get_booking(&app.a, uid).await;
    assert_eq!(g["guests"], json!([{"email": "g@example.com"}]));
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(
        list.ok(200)[0]["guests"],
        json!([{"email": "g@example.com"}])
    );
}

async fn patch_without_a_body_is_invalid_request(app: TestApp) {
    let b = app
        .book(
            &app.a,
            app.a.event_type_id,
            at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"),
        )
        .await;
    let uid = b["uid"].as_str().expect("uid");
    for body in [None, Some(b"".to_vec()), Some(b"  \n".to_vec())] {
        let r = app
            .a
            .api
            .request(
                Method::PATCH,
                &format!("/v1/bookings/{uid}"),
                &[
                    ("content-type", "application/json"),
                    ("if-match", "\"1\""),
                    ("idempotency-key", &key()),
                ],
                body,
            )
            .await;
        r.err(400, "invalid_request");
    }
    assert_eq!(app.get_booking(&app.a, uid).await["version"], 1, "no bump");
}
