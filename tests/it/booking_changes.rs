//! `PATCH /v1/bookings/{uid}`, `POST …/cancel` and `POST …/reschedule` (§3.10–3.12, §6.1.7).

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days, days_after, mins, wire};
use testkit::{EventTypeSpec, TestApp, both_backends, key};

both_backends!(
    patch_merges_metadata_replaces_responses_truncates_name,
    patch_rejects_immutable_fields,
    patch_validates_metadata_limits,
    cancel_bumps_version_and_is_idempotent,
    cancel_frees_the_slot_and_checks_reason,
    cancel_unknown_is_booking_not_found,
    reschedule_creates_a_new_booking,
    reschedule_refusals,
    reschedule_disallowed_by_event_type,
    reschedule_of_a_past_booking,
);

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

async fn create(app: &TestApp, hhmm: &str, extra: Value) -> Value {
    let mut b = json!({
        "event_type_id": app.a.event_type_id,
        "start": wire(tomorrow(app, hhmm)),
        "attendee": {"email": "ann@example.com", "name": "Ann"},
    });
    if let (Some(obj), Some(more)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
    r.ok(201).clone()
}

fn uid(b: &Value) -> String {
    b["uid"].as_str().expect("uid").to_owned()
}

async fn patch_merges_metadata_replaces_responses_truncates_name(app: TestApp) {
    let b = create(
        &app,
        "10:00",
        json!({"metadata": {"a": "1", "b": "2"}, "responses": {"q1": "x", "q2": "y"}}),
    )
    .await;
    let path = format!("/v1/bookings/{}", uid(&b));
    let long_name = "N".repeat(300);
    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"metadata": {"b": "3", "c": "4"}, "responses": {"q3": "z"}, "attendee_name": long_name}),
            Some("\"1\""),
            Some(&key()),
        )
        .await;
    let d = r.ok(200);
    assert_eq!(r.etag(), "\"2\"");
    assert_eq!(d["version"], 2);
    assert_eq!(
        d["metadata"],
        json!({"a": "1", "b": "3", "c": "4"}),
        "shallow merge"
    );
    assert_eq!(d["responses"], json!({"q3": "z"}), "responses are replaced");
    assert_eq!(
        d["attendees"][0]["name"]
            .as_str()
            .map(|s| s.chars().count()),
        Some(200),
        "attendee_name is truncated to 200"
    );
    let g = app.a.api.get(&path).await;
    assert_eq!(g.etag(), "\"2\"");
    assert_eq!(g.ok(200)["metadata"]["a"], "1");
    // Weak validators are accepted.
    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"metadata": {"d": "5"}}),
            Some("W/\"2\""),
            Some(&key()),
        )
        .await;
    assert_eq!(r.ok(200)["version"], 3);
    assert_eq!(r.etag(), "\"3\"");
}

async fn patch_rejects_immutable_fields(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    let path = format!("/v1/bookings/{}", uid(&b));
    for (body, want) in [
        (
            json!({"start": wire(tomorrow(&app, "12:00"))}),
            vec!["start"],
        ),
        (
            json!({"status": "canceled", "uid": "x"}),
            vec!["status", "uid"],
        ),
        (
            json!({"end": "x", "timezone": "UTC", "event_type_id": "x", "version": 9, "metadata": {"k": "v"}}),
            vec!["end", "event_type_id", "timezone", "version"],
        ),
    ] {
        let r = app
            .a
            .api
            .patch_json(&path, &body, Some("\"1\""), Some(&key()))
            .await;
        let d = r.err(422, "field_immutable");
        let mut got: Vec<String> = d["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("details.fields array: {}", r.describe()))
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        got.sort();
        assert_eq!(got, want, "{}", r.describe());
    }
    let g = app.a.api.get(&path).await;
    let d = g.ok(200);
    assert_eq!(d["version"], 1, "nothing applied");
    assert!(d["metadata"].get("k").is_none());
}

async fn patch_validates_metadata_limits(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    let path = format!("/v1/bookings/{}", uid(&b));
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    for body in [
        json!({"metadata": Value::Object(many)}),
        json!({"metadata": {"k".repeat(41): "v"}}),
        json!({"metadata": {"k": "v".repeat(501)}}),
    ] {
        let r = app
            .a
            .api
            .patch_json(&path, &body, Some("\"1\""), Some(&key()))
            .await;
        r.err(422, "validation_error");
    }
    assert_eq!(app.get_booking(&app.a, &uid(&b)).await["version"], 1);
}

async fn cancel_bumps_version_and_is_idempotent(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    let path = format!("/v1/bookings/{}/cancel", uid(&b));
    let r = app
        .a
        .api
        .post_json(&path, &json!({"reason": "Sick"}), Some(&key()))
        .await;
    let d = r.ok(200);
    assert_eq!(d["status"], "canceled");
    assert_eq!(d["version"], 2);
    assert_eq!(d["cancelled_at"], wire(app.now()));
    assert_eq!(d["cancellation_reason"], "Sick");
    // A second cancel (new key) returns the current state.
    let again = app.a.api.post_json(&path, &json!({}), Some(&key())).await;
    let d2 = again.ok(200);
    assert_eq!(d2["status"], "canceled");
    assert_eq!(d2["version"], 2, "no change on repeat");
    let g = app.a.api.get(&format!("/v1/bookings/{}", uid(&b))).await;
    assert_eq!(g.etag(), "\"2\"");
    // No body at all is fine too.
    let other = create(&app, "11:00", json!({})).await;
    let r = app
        .a
        .api
        .request(
            reqwest::Method::POST,
            &format!("/v1/bookings/{}/cancel", uid(&other)),
            &[("idempotency-key", &key())],
            None,
        )
        .await;
    assert_eq!(r.ok(200)["status"], "canceled");
}

async fn cancel_frees_the_slot_and_checks_reason(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    let path = format!("/v1/bookings/{}/cancel", uid(&b));
    let r = app
        .a
        .api
        .post_json(&path, &json!({"reason": "x".repeat(1025)}), Some(&key()))
        .await;
    r.not_5xx();
    assert!(matches!(r.status, 400 | 422), "{}", r.describe());
    assert_eq!(
        app.get_booking(&app.a, &uid(&b)).await["status"],
        "confirmed"
    );
    app.a
        .api
        .post_json(&path, &json!({"reason": "x".repeat(1024)}), Some(&key()))
        .await
        .ok(200);
    create(&app, "10:00", json!({})).await;
}

async fn cancel_unknown_is_booking_not_found(app: TestApp) {
    for uid in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        app.a
            .api
            .post_json(
                &format!("/v1/bookings/{uid}/cancel"),
                &json!({}),
                Some(&key()),
            )
            .await
            .err(404, "booking_not_found");
        app.a
            .api
            .post_json(
                &format!("/v1/bookings/{uid}/reschedule"),
                &json!({"start": wire(tomorrow(&app, "12:00"))}),
                Some(&key()),
            )
            .await
            .err(404, "booking_not_found");
        app.a
            .api
            .patch_json(
                &format!("/v1/bookings/{uid}"),
                &json!({"metadata": {}}),
                Some("\"1\""),
                Some(&key()),
            )
            .await
            .err(404, "booking_not_found");
    }
}

async fn reschedule_creates_a_new_booking(app: TestApp) {
    let b = create(&app, "10:00", json!({"metadata": {"keep": "me"}})).await;
    let old = uid(&b);
    let new_start = tomorrow(&app, "14:00");
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{old}/reschedule"),
            &json!({"start": wire(new_start), "reason": "Conflict"}),
            Some(&key()),
        )
        .await;
    let d = r.ok(200);
    assert_ne!(d["uid"], old.as_str(), "a new uid");
    assert_eq!(d["version"], 1);
    assert_eq!(d["rescheduled_from_uid"], old.as_str());
    assert_eq!(d["status"], "confirmed");
    assert_eq!(d["start_at"], wire(new_start));
    assert_eq!(d["end_at"], wire(new_start + mins(30)));
    assert_eq!(d["attendees"][0]["email"], "ann@example.com");
    let prev = app.get_booking(&app.a, &old).await;
    assert_eq!(prev["status"], "rescheduled");
    assert_eq!(prev["version"], 2);
    // The old time is free again, the new one is taken.
    create(&app, "10:00", json!({})).await;
    app.try_book(&app.a, app.a.event_type_id, new_start, "x@example.com")
        .await
        .err(409, "slot_unavailable");
}

async fn reschedule_refusals(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    let blocker = create(&app, "11:00", json!({})).await;
    let path = format!("/v1/bookings/{}/reschedule", uid(&b));
    app.a
        .api
        .post_json(&path, &json!({"start": blocker["start_at"]}), Some(&key()))
        .await
        .err(409, "slot_unavailable");
    let past = at(BERLIN, days_after(BERLIN, app.now(), -1), "10:00");
    app.a
        .api
        .post_json(&path, &json!({"start": wire(past)}), Some(&key()))
        .await
        .err(409, "slot_in_past");
    let r = app.a.api.post_json(&path, &json!({}), Some(&key())).await;
    let d = r.err(422, "validation_error");
    assert!(d["fields"].get("start").is_some(), "{}", r.describe());
    assert_eq!(
        app.get_booking(&app.a, &uid(&b)).await["version"],
        1,
        "unchanged"
    );
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{}/cancel", uid(&b)),
            &json!({}),
            Some(&key()),
        )
        .await
        .ok(200);
    app.a
        .api
        .post_json(
            &path,
            &json!({"start": wire(tomorrow(&app, "15:00"))}),
            Some(&key()),
        )
        .await
        .err(409, "booking_already_cancelled");
}

async fn reschedule_disallowed_by_event_type(app: TestApp) {
    let mut spec = EventTypeSpec::individual("fixed");
    spec.allow_reschedule = false;
    let et = app.create_event_type(&app.a, spec).await;
    let b = app.book(&app.a, et, tomorrow(&app, "10:00")).await;
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{}/reschedule", uid(&b)),
            &json!({"start": wire(tomorrow(&app, "12:00"))}),
            Some(&key()),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.describe());
    r.err(r.status, "event_type_disallows_reschedule");
}

async fn reschedule_of_a_past_booking(app: TestApp) {
    let b = create(&app, "10:00", json!({})).await;
    app.clock.advance(days(2));
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{}/reschedule", uid(&b)),
            &json!({"start": wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"))}),
            Some(&key()),
        )
        .await;
    r.err(409, "booking_in_past");
}
