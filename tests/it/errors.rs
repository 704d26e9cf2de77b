//! Bad input never yields a 5xx (§2.6, §6.3): unknown paths, malformed JSON with line and
//! column, unknown fields, wrong types, oversized bodies, `limit` out of range, and a sweep of
//! garbage over every write and read route.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{EventTypeSpec, TestApp, both_backends, key};

both_backends!(
    unknown_paths_are_404_envelopes,
    wrong_method_is_405,
    malformed_json_is_invalid_request_with_position,
    unknown_fields_are_named,
    wrong_types_are_validation_errors,
    bodies_over_64_kib_are_413,
    limit_above_100_is_clamped,
    garbage_never_yields_a_5xx,
);

async fn unknown_paths_are_404_envelopes(app: TestApp) {
    let r = app.a.api.get("/v1/no-such-thing").await;
    r.err(404, "not_found");
    r.rate_limit_headers();
    for path in ["/nope", "/v2/bookings", "/v1/bookings/x/y/z"] {
        let r = app.a.api.get(path).await;
        r.assert_status(404);
        r.request_id();
        assert!(r.code().is_some(), "error envelope: {}", r.describe());
    }
}

async fn wrong_method_is_405(app: TestApp) {
    let r = app.a.api.delete("/v1/_ping").await;
    r.assert_status(405);
    r.request_id();
    assert!(
        r.header("allow").is_some(),
        "405 carries Allow: {}",
        r.describe()
    );
    let r = app
        .a
        .api
        .post_json("/v1/me", &json!({}), Some(&key()))
        .await;
    r.assert_status(405);
}

async fn malformed_json_is_invalid_request_with_position(app: TestApp) {
    let b = app
        .book(
            &app.a,
            app.a.event_type_id,
            at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"),
        )
        .await;
    let uid = b["uid"].as_str().expect("uid");
    let bad = "{\n  \"start\": \"2030-01-01T10:00:00Z\",\n  \"attendee\": {\"email\": }\n}";
    for (method, path) in [
        (Method::POST, "/v1/bookings".to_owned()),
        (Method::POST, format!("/v1/bookings/{uid}/cancel")),
        (Method::POST, format!("/v1/bookings/{uid}/reschedule")),
        (Method::PATCH, format!("/v1/bookings/{uid}")),
        (Method::POST, "/v1/schedules".to_owned()),
        (Method::POST, "/v1/event-types".to_owned()),
    ] {
        let k = key();
        let r = app
            .a
            .api
            .request(
                method,
                &path,
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", &k),
                    ("if-match", "\"1\""),
                ],
                Some(bad.as_bytes().to_vec()),
            )
            .await;
        let d = r.err(400, "invalid_request");
        assert_eq!(d["line"], 3, "{}", r.describe());
        assert!(
            d["column"].as_u64().is_some_and(|c| c > 0),
            "{}",
            r.describe()
        );
    }
    assert_eq!(app.get_booking(&app.a, uid).await["version"], 1);
}

#[track_caller]
fn assert_fields(r: &testkit::Resp, status: u16, code: &str, names: &[&str]) {
    let d = r.err(status, code);
    for n in names {
        assert!(
            d["fields"].get(*n).is_some(),
            "details.fields must name {n}: {}",
            r.describe()
        );
    }
}

async fn unknown_fields_are_named(app: TestApp) {
    let start = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"));
    let r = app
        .a
        .api
        .post_json(
            "/v1/bookings",
            &json!({
                "event_type_id": app.a.event_type_id,
                "start": start,
                "attendee": {"email": "a@example.com"},
                "colour": "red",
                "status": "canceled",
            }),
            Some(&key()),
        )
        .await;
    assert_fields(&r, 422, "validation_error", &["colour", "status"]);
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(
        list.ok(200).as_array().map(Vec::len),
        Some(0),
        "nothing created"
    );

    let b = app
        .book(&app.a, app.a.event_type_id, testkit::time::ts(&start))
        .await;
    let uid = b["uid"].as_str().expect("uid");
    let r = app
        .a
        .api
        .patch_json(
            &format!("/v1/bookings/{uid}"),
            &json!({"metadata": {"a": "b"}, "foo": 1}),
            Some("\"1\""),
            Some(&key()),
        )
        .await;
    assert_fields(&r, 422, "validation_error", &["foo"]);
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/cancel"),
            &json!({"reasn": "typo"}),
            Some(&key()),
        )
        .await;
    assert_fields(&r, 422, "validation_error", &["reasn"]);
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/reschedule"),
            &json!({"start": start, "when": "later"}),
            Some(&key()),
        )
        .await;
    assert_fields(&r, 422, "validation_error", &["when"]);
    let g = app.get_booking(&app.a, uid).await;
    assert_eq!(
        (g["version"].clone(), g["status"].clone()),
        (json!(1), json!("confirmed"))
    );
}

async fn wrong_types_are_validation_errors(app: TestApp) {
    let et = app.a.event_type_id;
    let start = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"));
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"event_type_id": et, "start": 123, "attendee": {"email": "a@example.com"}}),
            "start",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": "a@example.com"}),
            "attendee",
        ),
        (
            json!({"event_type_id": 5, "start": start, "attendee": {"email": "a@example.com"}}),
            "event_type_id",
        ),
        (
            json!({"event_type_id": "not-a-uuid", "start": start, "attendee": {"email": "a@example.com"}}),
            "event_type_id",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": {"email": "a@example.com"}, "metadata": [1]}),
            "metadata",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": {"email": "a@example.com"}, "guests": "x@example.com"}),
            "guests",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": {"email": "a@example.com", "sms_opt_in": "yes"}}),
            "attendee.sms_opt_in",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .a
            .api
            .post_json("/v1/bookings", &body, Some(&key()))
            .await;
        assert_fields(&r, 422, "validation_error", &[field]);
    }
    for raw in ["[]", "\"text\"", "42", "null"] {
        let r = app
            .a
            .api
            .request(
                Method::POST,
                "/v1/bookings",
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", &key()),
                ],
                Some(raw.as_bytes().to_vec()),
            )
            .await;
        assert!(matches!(r.status, 400 | 422), "{raw}: {}", r.describe());
        r.request_id();
    }
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(0));
}

async fn bodies_over_64_kib_are_413(app: TestApp) {
    let start = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"));
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": start,
        "attendee": {"email": "a@example.com"},
        "metadata": {"blob": "x".repeat(70 * 1024)},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &body, Some(&key()))
        .await;
    r.err(413, "payload_too_large");
    r.rate_limit_headers();
    let r = app.a.api.post_json("/v1/schedules", &body, None).await;
    r.err(413, "payload_too_large");
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(0));
}

async fn limit_above_100_is_clamped(app: TestApp) {
    for i in 0..100 {
        app.create_event_type(&app.a, EventTypeSpec::individual(&format!("bulk-{i:03}")))
            .await;
    }
    let r = app.a.api.get("/v1/event-types?limit=1000").await;
    assert_eq!(r.ok(200).as_array().map(Vec::len), Some(100));
    assert_eq!(r.meta()["has_more"], true);
    let r = app.a.api.get("/v1/event-types?limit=101").await;
    assert_eq!(r.ok(200).as_array().map(Vec::len), Some(100));
    let r = app.a.api.get("/v1/event-types").await;
    assert_eq!(
        r.ok(200).as_array().map(Vec::len),
        Some(20),
        "default limit 20"
    );
}

async fn garbage_never_yields_a_5xx(app: TestApp) {
    let b = app
        .book(
            &app.a,
            app.a.event_type_id,
            at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"),
        )
        .await;
    let uid = b["uid"].as_str().expect("uid");
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"{\"start\": \"9999-99-99T99:99:99Z\"}".to_vec(),
        b"{\"start\": \"2030-01-01T10:00:00Z\", \"attendee\": {\"email\": \"a@example.com\"}, \"event_type_id\": \"00000000-0000-0000-0000-000000000000\"}".to_vec(),
        b"{\"start\": \"-271821-04-20T00:00:00Z\", \"attendee\": {\"email\": \"a@example.com\"}}".to_vec(),
        b"{\"metadata\": {\"a\": {\"b\": {\"c\": [1,2,3]}}}}".to_vec(),
        b"{\"attendee_name\": 42, \"responses\": [\"x\"]}".to_vec(),
        format!("{{\"reason\": \"{}\"}}", "\\u0000".repeat(10)).into_bytes(),
        format!("[{}]", "[".repeat(200) + &"]".repeat(200)).into_bytes(),
    ];
    let writes = [
        (Method::POST, "/v1/bookings".to_owned()),
        (Method::PATCH, format!("/v1/bookings/{uid}")),
        (Method::POST, format!("/v1/bookings/{uid}/cancel")),
        (Method::POST, format!("/v1/bookings/{uid}/reschedule")),
        (Method::POST, "/v1/schedules".to_owned()),
        (
            Method::PATCH,
            format!("/v1/schedules/{}", app.a.owner.schedule_all_day),
        ),
        (Method::POST, "/v1/event-types".to_owned()),
        (
            Method::PATCH,
            format!("/v1/event-types/{}", app.a.event_type_id),
        ),
    ];
    for (method, path) in &writes {
        for body in &bodies {
            let k = key();
            let r = app
                .a
                .api
                .request(
                    method.clone(),
                    path,
                    &[
                        ("content-type", "application/json"),
                        ("idempotency-key", &k),
                        ("if-match", "\"99\""),
                    ],
                    Some(body.clone()),
                )
                .await;
            r.not_5xx();
            r.request_id();
        }
    }
    let et = app.a.event_type_id;
    for q in [
        format!("/v1/slots?event_type_id={et}&start=0&end=99999999999999"),
        format!("/v1/slots?event_type_id={et}&start=-271821-04-20&end=-271821-04-21"),
        format!("/v1/slots?event_type_id={et}&start=9999-12-31&end=9999-12-31T23:59:59Z"),
        format!(
            "/v1/slots/check?event_type_id={et}&start=2030-01-01T10:00:00Z&end=2020-01-01T00:00:00Z"
        ),
        "/v1/bookings?limit=99999999999999999999999".to_owned(),
        "/v1/bookings?start_date=%00&end_date=%ff".to_owned(),
        "/v1/bookings?status=,,,&host_user_ids=,".to_owned(),
        "/v1/event-types?cursor=eyJpZCI6Ii4uLiJ9".to_owned(),
        "/v1/bookings?cursor=eyJpZCI6Ii4uLiJ9".to_owned(),
        "/v1/event-types/%2F".to_owned(),
        "/v1/event-types/a%2Fb%2Fc".to_owned(),
        "/v1/bookings/%00".to_owned(),
    ] {
        let r = app.a.api.get(&q).await;
        r.not_5xx();
        r.request_id();
    }
}
