//! The tenancy matrix (§2.6 "no 403 leak"): org A's all-scope token gets 404 on every resource
//! of org B — by id, by `username%2Fslug`, through slots, bookings and schedules, reads and
//! writes — sees none of B's rows in lists, and changes nothing of B.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends, key};

both_backends!(
    org_a_cannot_see_or_touch_org_b,
    lists_never_mix_organizations
);

/// A request of org A at a resource of org B and the 404 code it must get.
type Case<'a> = (
    Method,
    String,
    &'a [(&'a str, &'a str)],
    Option<Value>,
    &'static str,
);

/// B's state as B sees it.
async fn snapshot_b(app: &TestApp, booking: &str) -> Value {
    let api = &app.b.api;
    json!({
        "booking": api.get(&format!("/v1/bookings/{booking}")).await.ok(200).clone(),
        "bookings": api.get("/v1/bookings?limit=100").await.ok(200).clone(),
        "event_type": api.get(&format!("/v1/event-types/{}", app.b.event_type_id)).await.ok(200).clone(),
        "event_types": api.get("/v1/event-types?limit=100").await.ok(200).clone(),
        "schedule": api.get(&format!("/v1/schedules/{}", app.b.owner.schedule_all_day)).await.body["data"].clone(),
        "schedules": api.get("/v1/schedules").await.body["data"].clone(),
    })
}

async fn org_a_cannot_see_or_touch_org_b(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 1);
    let b_booking = app
        .book(&app.b, app.b.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let uid = b_booking["uid"].as_str().expect("uid").to_owned();
    let before = snapshot_b(&app, &uid).await;
    let et = app.b.event_type_id;
    let sched = app.b.owner.schedule_all_day;
    let start = wire(at(BERLIN, day, "12:00"));
    let end = wire(at(BERLIN, days_after(BERLIN, app.now(), 2), "00:00"));
    let api = &app.a.api;
    let k = key();
    let idem = [
        ("content-type", "application/json"),
        ("idempotency-key", k.as_str()),
    ];
    let patch_hdrs = [
        ("content-type", "application/json"),
        ("idempotency-key", k.as_str()),
        ("if-match", "\"1\""),
    ];
    let json_only = [("content-type", "application/json"), ("if-match", "\"1\"")];
    let book_b =
        json!({"event_type_id": et, "start": start, "attendee": {"email": "x@example.com"}});
    let book_b_slug = json!({"username": "bob", "event_slug": "intro-call", "start": start, "attendee": {"email": "x@example.com"}});
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("/v1/event-types/{et}"),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::GET,
            "/v1/event-types/bob%2Fintro-call".into(),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::PATCH,
            format!("/v1/event-types/{et}"),
            &json_only,
            Some(json!({"title": "Pwned"})),
            "event_type_not_found",
        ),
        (
            Method::DELETE,
            format!("/v1/event-types/{et}"),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::GET,
            format!("/v1/slots?event_type_id={et}&start={start}&end={end}"),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::GET,
            format!("/v1/slots?username=bob&event_slug=intro-call&start={start}&end={end}"),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::GET,
            format!("/v1/slots/check?event_type_id={et}&start={start}"),
            &[],
            None,
            "event_type_not_found",
        ),
        (
            Method::POST,
            "/v1/bookings".into(),
            &idem,
            Some(book_b),
            "event_type_not_found",
        ),
        (
            Method::POST,
            "/v1/bookings".into(),
            &idem,
            Some(book_b_slug),
            "event_type_not_found",
        ),
        (
            Method::GET,
            format!("/v1/bookings/{uid}"),
            &[],
            None,
            "booking_not_found",
        ),
        (Method::HEAD, format!("/v1/bookings/{uid}"), &[], None, ""),
        (
            Method::PATCH,
            format!("/v1/bookings/{uid}"),
            &patch_hdrs,
            Some(json!({"metadata": {"x": "y"}})),
            "booking_not_found",
        ),
        (
            Method::POST,
            format!("/v1/bookings/{uid}/cancel"),
            &idem,
            Some(json!({})),
            "booking_not_found",
        ),
        (
            Method::POST,
            format!("/v1/bookings/{uid}/reschedule"),
            &idem,
            Some(json!({"start": start})),
            "booking_not_found",
        ),
        (
            Method::GET,
            format!("/v1/schedules/{sched}"),
            &[],
            None,
            "not_found",
        ),
        (
            Method::PATCH,
            format!("/v1/schedules/{sched}"),
            &json_only,
            Some(json!({"name": "Pwned"})),
            "not_found",
        ),
        (
            Method::DELETE,
            format!("/v1/schedules/{sched}"),
            &[],
            None,
            "not_found",
        ),
    ];
    for (method, path, headers, body, code) in cases {
        // Each write gets its own idempotency key scope: reuse is fine because every one fails.
        let r = api
            .request(
                method.clone(),
                &path,
                headers,
                body.map(|b| b.to_string().into_bytes()),
            )
            .await;
        if method == Method::HEAD {
            r.assert_status(404);
            continue;
        }
        r.err(404, code);
    }
    // Creating a schedule for B's user from A is refused as well, without leaking existence.
    let r = api
        .post_json(
            "/v1/schedules",
            &json!({"user_id": app.b.owner.user_id, "name": "X", "timezone": "UTC", "rules": []}),
            None,
        )
        .await;
    assert!(matches!(r.status, 404 | 422), "{}", r.describe());
    assert_eq!(snapshot_b(&app, &uid).await, before, "org B changed");
}

async fn lists_never_mix_organizations(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 1);
    app.book(&app.b, app.b.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let api = &app.a.api;
    let empty = |r: &testkit::Resp| {
        assert_eq!(
            r.ok(200).as_array().map(Vec::len),
            Some(0),
            "{}",
            r.describe()
        );
    };
    empty(&api.get("/v1/bookings").await);
    empty(
        &api.get(&format!(
            "/v1/bookings?event_type_id={}",
            app.b.event_type_id
        ))
        .await,
    );
    empty(
        &api.get(&format!(
            "/v1/bookings?host_user_id={}",
            app.b.owner.user_id
        ))
        .await,
    );
    empty(
        &api.get(&format!("/v1/event-types?user_id={}", app.b.owner.user_id))
            .await,
    );
    let r = api.get("/v1/schedules").await;
    let mine: Vec<String> = r
        .ok(200)
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!mine.contains(&app.b.owner.schedule_all_day.to_string()));
    assert_eq!(mine.len(), 2, "A's own two schedules");
    let r = api.get("/v1/event-types").await;
    assert!(
        r.ok(200)
            .as_array()
            .expect("array")
            .iter()
            .all(|e| e["id"] != app.b.event_type_id.to_string())
    );
}
