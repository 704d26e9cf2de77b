//! Bad input is a 4xx with the contract's code (§6.3, issue 17 item 7): forged and mismatched
//! cursors, NUL characters, repeated query parameters and `Idempotency-Key` headers, instants
//! outside the years 0001–9999, bodies not typed JSON, plain-date slot windows across a DST
//! change, `/v1/slots/check` with an `end`, a host list over the limit and deeply nested
//! metadata. Each case also checks that nothing was stored.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;
use testkit::time::{BERLIN, at, days_after, mins, wire};
use testkit::{TestApp, both_backends, key};
use uuid::Uuid;

both_backends!(
    forged_cursors_are_invalid_query_param,
    nul_characters_are_refused,
    repeated_query_parameters_are_400,
    repeated_idempotency_keys_are_400,
    instants_outside_years_0001_to_9999_are_refused,
    bodies_not_typed_json_are_415,
    plain_date_windows_count_local_days_across_dst,
    slot_check_evaluates_the_requested_end,
    host_lists_over_the_limit_are_refused_before_lookups,
    nested_metadata_is_capped,
);

fn cursor(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

async fn booking_count(app: &TestApp) -> usize {
    let r = app.a.api.get("/v1/bookings").await;
    r.ok(200).as_array().map_or(0, Vec::len)
}

fn tomorrow_at(app: &TestApp, hhmm: &str) -> String {
    wire(at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm))
}

async fn forged_cursors_are_invalid_query_param(app: TestApp) {
    app.book(
        &app.a,
        app.a.event_type_id,
        at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"),
    )
    .await;
    let id = Uuid::nil();
    for (path, raw) in [
        // The smallest 64-bit timestamp: Postgres could not bind it (was a 500).
        ("/v1/bookings", format!("start_at_desc|i|{id}|{}", i64::MIN)),
        ("/v1/bookings", format!("start_at_desc|i|{id}|{}", i64::MAX)),
        // Year 0000 and 10000.
        (
            "/v1/bookings?sort=created_at_asc",
            format!("created_at_asc|i|{id}|-62135596800001"),
        ),
        (
            "/v1/bookings?sort=created_at_asc",
            format!("created_at_asc|i|{id}|253402300800000"),
        ),
        // A text key on an instant sort, and an instant key on a text sort.
        ("/v1/bookings", format!("start_at_desc|t|{id}|hello")),
        (
            "/v1/event-types?sort=title_asc",
            format!("title_asc|i|{id}|5"),
        ),
        ("/v1/event-types", format!("created_at_desc|t|{id}|x")),
        // Made for another sort.
        ("/v1/bookings", format!("start_at_asc|i|{id}|0")),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = app
            .a
            .api
            .get(&format!("{path}{sep}cursor={}", cursor(&raw)))
            .await;
        r.bad_param("cursor");
    }
    // A real cursor still pages.
    app.book(
        &app.a,
        app.a.event_type_id,
        at(BERLIN, days_after(BERLIN, app.now(), 1), "11:00"),
    )
    .await;
    let first = app.a.api.get("/v1/bookings?limit=1").await;
    let next = first.meta()["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_owned();
    let r = app
        .a
        .api
        .get(&format!("/v1/bookings?limit=1&cursor={next}"))
        .await;
    assert_eq!(r.ok(200).as_array().map(Vec::len), Some(1));
}

async fn nul_characters_are_refused(app: TestApp) {
    let start = tomorrow_at(&app, "10:00");
    for (body, field) in [
        (
            json!({"event_type_id": app.a.event_type_id, "start": start,
                   "attendee": {"email": "a@example.com", "name": "Ann\u{0}Lee"}}),
            "attendee.name",
        ),
        (
            json!({"event_type_id": app.a.event_type_id, "start": start,
                   "attendee": {"email": "a@example.com"}, "metadata": {"crm": "x\u{0}"}}),
            "metadata.crm",
        ),
        (
            json!({"event_type_id": app.a.event_type_id, "start": start,
                   "attendee": {"email": "a@example.com"}, "guests": ["g@example.com", "\u{0}"]}),
            "guests[1]",
        ),
    ] {
        let r = app
            .a
            .api
            .post_json("/v1/bookings", &body, Some(&key()))
            .await;
        let d = r.err(422, "validation_error");
        assert!(
            d["fields"].get(field).is_some(),
            "{field}: {}",
            r.describe()
        );
    }
    let r = app
        .a
        .api
        .post_json(
            "/v1/schedules",
            &json!({"name": "x\u{0}y", "timezone": BERLIN, "rules": []}),
            None,
        )
        .await;
    let d = r.err(422, "validation_error");
    assert!(d["fields"].get("name").is_some(), "{}", r.describe());
    assert_eq!(booking_count(&app).await, 0, "nothing stored");

    let b = app
        .book(
            &app.a,
            app.a.event_type_id,
            at(BERLIN, days_after(BERLIN, app.now(), 1), "12:00"),
        )
        .await;
    let uid = b["uid"].as_str().expect("uid");
    let r = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/cancel"),
            &json!({"reason": "\u{0}"}),
            Some(&key()),
        )
        .await;
    r.err(422, "validation_error");
    assert_eq!(app.get_booking(&app.a, uid).await["status"], "confirmed");
    for q in [
        "/v1/bookings?attendee_email=a%00b@example.com",
        "/v1/event-types?slug=%00",
    ] {
        let r = app.a.api.get(q).await;
        r.err(400, "invalid_query_param");
    }
}

async fn repeated_query_parameters_are_400(app: TestApp) {
    let et = app.a.event_type_id;
    let r = app.a.api.get("/v1/bookings?limit=1&limit=2").await;
    r.bad_param("limit");
    let r = app
        .a
        .api
        .get("/v1/bookings?sort=start_at_asc&sort=start_at_desc")
        .await;
    r.bad_param("sort");
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={et}&event_type_id={et}&start=2030-01-01&end=2030-01-02"
        ))
        .await;
    r.bad_param("event_type_id");
    // The list parameters may repeat.
    let r = app
        .a
        .api
        .get("/v1/bookings?status=confirmed&status=canceled")
        .await;
    r.ok(200);
    let h = app.a.owner.user_id;
    let r = app
        .a
        .api
        .get(&format!("/v1/bookings?host_user_ids={h}&host_user_ids={h}"))
        .await;
    r.ok(200);
}

async fn repeated_idempotency_keys_are_400(app: TestApp) {
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": tomorrow_at(&app, "10:00"),
        "attendee": {"email": "a@example.com"},
    });
    let (k1, k2) = (key(), key());
    let r = app
        .a
        .api
        .request(
            Method::POST,
            "/v1/bookings",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", &k1),
                ("idempotency-key", &k2),
            ],
            Some(body.to_string().into_bytes()),
        )
        .await;
    r.err(400, "invalid_request");
    assert_eq!(booking_count(&app).await, 0, "nothing stored");
}

async fn instants_outside_years_0001_to_9999_are_refused(app: TestApp) {
    for start in [
        "0000-06-01T10:00:00Z",
        "-000001-06-01T10:00:00Z",
        "0001-01-01T00:30:00+01:00",
        "+010000-01-01T00:00:00Z",
    ] {
        let r = app
            .a
            .api
            .post_json(
                "/v1/bookings",
                &json!({"event_type_id": app.a.event_type_id, "start": start,
                        "attendee": {"email": "a@example.com"}}),
                Some(&key()),
            )
            .await;
        let d = r.err(422, "validation_error");
        assert!(
            d["fields"].get("start").is_some(),
            "{start}: {}",
            r.describe()
        );
    }
    assert_eq!(booking_count(&app).await, 0);
    let et = app.a.event_type_id;
    for (q, param) in [
        (
            format!("/v1/slots?event_type_id={et}&start=0000-01-01&end=0000-01-02"),
            "start",
        ),
        (
            format!("/v1/slots?event_type_id={et}&start=-000001-01-01T00:00:00Z&end=2030-01-01"),
            "start",
        ),
        (
            format!("/v1/slots/check?event_type_id={et}&start=0000-03-01T10:00:00Z"),
            "start",
        ),
        (
            "/v1/bookings?updated_since=-000001-01-01T00:00:00Z".to_owned(),
            "updated_since",
        ),
        (
            "/v1/bookings?start_date=0000-01-01".to_owned(),
            "start_date",
        ),
    ] {
        app.a.api.get(&q).await.bad_param(param);
    }
}

async fn bodies_not_typed_json_are_415(app: TestApp) {
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": tomorrow_at(&app, "10:00"),
        "attendee": {"email": "a@example.com"},
    })
    .to_string()
    .into_bytes();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        None,
    ] {
        let k = key();
        let mut headers = vec![("idempotency-key", k.as_str())];
        if let Some(ct) = ct {
            headers.push(("content-type", ct));
        }
        let r = app
            .a
            .api
            .request(Method::POST, "/v1/bookings", &headers, Some(body.clone()))
            .await;
        let d = r.err(415, "invalid_request");
        assert_eq!(d["header"], "Content-Type", "{ct:?}: {}", r.describe());
    }
    assert_eq!(booking_count(&app).await, 0, "nothing stored");
    let r = app
        .a
        .api
        .request(
            Method::POST,
            "/v1/schedules",
            &[("content-type", "text/plain")],
            Some(br#"{"name":"x","timezone":"UTC","rules":[]}"#.to_vec()),
        )
        .await;
    r.err(415, "invalid_request");
    // JSON with parameters and `+json` types are JSON.
    let r = app
        .a
        .api
        .request(
            Method::POST,
            "/v1/bookings",
            &[
                ("idempotency-key", &key()),
                ("content-type", "application/json; charset=utf-8"),
            ],
            Some(body),
        )
        .await;
    let uid = r.ok(201)["uid"].as_str().expect("uid").to_owned();
    // An optional body may be absent without a type.
    let r = app
        .a
        .api
        .request(
            Method::POST,
            &format!("/v1/bookings/{uid}/cancel"),
            &[("idempotency-key", &key())],
            None,
        )
        .await;
    assert_eq!(r.ok(200)["status"], "canceled");
}

async fn plain_date_windows_count_local_days_across_dst(app: TestApp) {
    app.clock.set(testkit::time::ts("2027-10-01T06:00:00Z"));
    let et = app.a.event_type_id;
    // 2027-10-15 .. 2027-11-15 in Berlin is 31 local days and 31 d + 1 h of absolute time.
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={et}&start=2027-10-15&end=2027-11-15&timezone={BERLIN}"
        ))
        .await;
    let d = r.ok(200);
    let slots = d["slots"].as_array().expect("slots");
    assert_eq!(
        slots.last().and_then(|s| s["start"].as_str()),
        Some("2027-11-14T22:30:00.000Z"),
        "the last slot is 23:30 local on the 31st day"
    );
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={et}&start=2027-10-15&end=2027-11-16&timezone={BERLIN}"
        ))
        .await;
    r.bad_param("end");
    // Absolute bounds keep counting 31 × 24 h.
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={et}&start=2027-10-14T22:00:00Z&end=2027-11-14T23:00:00Z"
        ))
        .await;
    r.bad_param("end");
}

async fn slot_check_evaluates_the_requested_end(app: TestApp) {
    let et = app.a.event_type_id;
    let start = at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00");
    let q = |end: jiff::Timestamp| {
        format!(
            "/v1/slots/check?event_type_id={et}&start={}&end={}",
            wire(start),
            wire(end)
        )
    };
    let r = app.a.api.get(&q(start + mins(30))).await;
    assert_eq!(r.ok(200)["available"], true, "{}", r.describe());
    let r = app.a.api.get(&q(start + mins(45))).await;
    r.bad_param("end");
    let r = app.a.api.get(&q(start + mins(24 * 60))).await;
    r.bad_param("end");
}

async fn host_lists_over_the_limit_are_refused_before_lookups(app: TestApp) {
    let hosts: Vec<_> = (0..51)
        .map(|_| json!({"user_id": Uuid::new_v4()}))
        .collect();
    let r = app
        .a
        .api
        .post_json(
            "/v1/event-types",
            &json!({"slug": "many", "title": "Many", "duration_minutes": 30,
                    "scheduling_type": "collective", "hosts": hosts}),
            None,
        )
        .await;
    let d = r.err(422, "validation_error");
    // One message for the count, not one lookup failure per unknown host.
    assert_eq!(
        d["fields"]["hosts"],
        json!(["must list 1 to 50 hosts"]),
        "{}",
        r.describe()
    );
}

async fn nested_metadata_is_capped(app: TestApp) {
    let deep = json!([[[[[[1]]]]]]);
    let long: Vec<u32> = (0..600).collect();
    for (name, value) in [("deep", deep), ("long", json!(long))] {
        let r = app
            .a
            .api
            .post_json(
                "/v1/bookings",
                &json!({"event_type_id": app.a.event_type_id, "start": tomorrow_at(&app, "10:00"),
                        "attendee": {"email": "a@example.com"}, "metadata": {name: value}}),
                Some(&key()),
            )
            .await;
        let d = r.err(422, "validation_error");
        assert!(
            d["fields"].get(format!("metadata.{name}")).is_some(),
            "{}",
            r.describe()
        );
    }
    assert_eq!(booking_count(&app).await, 0);
    let r = app
        .a
        .api
        .post_json(
            "/v1/bookings",
            &json!({"event_type_id": app.a.event_type_id, "start": tomorrow_at(&app, "10:00"),
                    "attendee": {"email": "a@example.com"},
                    "metadata": {"ok": {"a": [1, {"b": true}]}}}),
            Some(&key()),
        )
        .await;
    assert_eq!(r.ok(201)["metadata"]["ok"], json!({"a": [1, {"b": true}]}));
}
