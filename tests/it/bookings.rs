//! `POST /v1/bookings` and `GET /v1/bookings/{uid}` (§3.8, §3.9): creation, its refusals and
//! attendee checks, reading with `ETag`, and 20 concurrent writers on one slot.

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, mins, wire};
use testkit::{EventTypeSpec, TestApp, both_backends, key};

both_backends!(
    create_returns_201_with_the_booking,
    create_by_username_and_slug,
    create_accepts_offsets_and_answers_in_utc,
    create_requires_event_type_identification,
    create_in_a_taken_slot_is_slot_unavailable,
    create_outside_availability_is_slot_unavailable,
    create_in_the_past_is_slot_in_past,
    create_on_inactive_event_type,
    create_for_unknown_event_type,
    attendee_email_is_checked,
    attendee_phone_is_checked,
    create_validates_the_body,
    get_returns_etag_and_responses,
    get_unknown_or_non_uuid_is_booking_not_found,
    twenty_concurrent_posts_one_slot_one_winner,
);

/// All fields the contract lists for a Booking.
pub const BOOKING_FIELDS: &[&str] = &[
    "uid",
    "version",
    "event_type_id",
    "event_type_slug",
    "title",
    "status",
    "start_at",
    "end_at",
    "timezone",
    "host",
    "attendees",
    "guests",
    "location",
    "metadata",
    "responses",
    "calendar_sync_status",
    "calendar_event_id",
    "rescheduled_from_uid",
    "cancelled_at",
    "cancellation_reason",
    "no_show_at",
    "no_show_reason",
    "created_at",
    "updated_at",
];

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

fn body(et: uuid::Uuid, start: jiff::Timestamp) -> Value {
    json!({
        "event_type_id": et,
        "start": wire(start),
        "attendee": {"email": "ann@example.com", "name": "Ann Attendee"},
    })
}

async fn create_returns_201_with_the_booking(app: TestApp) {
    let start = tomorrow(&app, "10:00");
    let req = json!({
        "event_type_id": app.a.event_type_id,
        "start": wire(start),
        "timezone": "America/New_York",
        "attendee": {
            "email": "ann@example.com",
            "name": "Ann Attendee",
            "phone": "+4915112345678",
            "timezone": "America/New_York",
        },
        "guests": ["guest@example.com"],
        "metadata": {"crm_id": "42", "n": 7, "flag": true},
        "utm_source": "newsletter",
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &req, Some(&key()))
        .await;
    let d = r.ok(201);
    for f in BOOKING_FIELDS {
        assert!(d.get(*f).is_some(), "booking lacks {f}: {d}");
    }
    assert!(uuid::Uuid::parse_str(d["uid"].as_str().expect("uid")).is_ok());
    assert_eq!(d["version"], 1);
    assert_eq!(d["status"], "confirmed");
    assert_eq!(d["event_type_id"], app.a.event_type_id.to_string());
    assert_eq!(d["event_type_slug"], "intro-call");
    assert_eq!(d["start_at"], wire(start));
    assert_eq!(d["end_at"], wire(start + mins(30)));
    assert_eq!(d["timezone"], "America/New_York");
    assert_eq!(d["host"]["user_id"], app.a.owner.user_id.to_string());
    assert_eq!(d["attendees"][0]["email"], "ann@example.com");
    assert_eq!(d["attendees"][0]["name"], "Ann Attendee");
    assert_eq!(d["guests"][0]["email"], "guest@example.com");
    assert_eq!(d["metadata"], json!({"crm_id": "42", "n": 7, "flag": true}));
    assert!(
        ["synced", "pending", "failed", "not_applicable"]
            .contains(&d["calendar_sync_status"].as_str().unwrap_or("")),
        "{d}"
    );
    assert!(d["rescheduled_from_uid"].is_null());
    assert!(d["cancelled_at"].is_null());
    assert_eq!(d["created_at"], wire(app.now()));
    r.rate_limit_headers();
}

async fn create_by_username_and_slug(app: TestApp) {
    let req = json!({
        "username": "alice",
        "event_slug": "intro-call",
        "start": wire(tomorrow(&app, "11:00")),
        "attendee": {"email": "ann@example.com"},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &req, Some(&key()))
        .await;
    assert_eq!(r.ok(201)["event_type_id"], app.a.event_type_id.to_string());
}

async fn create_requires_event_type_identification(app: TestApp) {
    let req = json!({
        "start": wire(tomorrow(&app, "11:00")),
        "attendee": {"email": "ann@example.com"},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &req, Some(&key()))
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.describe());
    r.request_id();
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(0));
}

async fn create_in_a_taken_slot_is_slot_unavailable(app: TestApp) {
    let start = tomorrow(&app, "10:00");
    app.book(&app.a, app.a.event_type_id, start).await;
    let r = app
        .try_book(&app.a, app.a.event_type_id, start, "late@example.com")
        .await;
    r.err(409, "slot_unavailable");
    assert_eq!(
        r.body["error"]["message"],
        "That time is no longer available",
        "{}",
        r.describe()
    );
    // Overlapping but not identical (a 60-minute type of the same host at 10:00 covers 10:00).
    let mut long = EventTypeSpec::individual("long");
    long.duration_minutes = 60;
    let long = app.create_event_type(&app.a, long).await;
    app.try_book(&app.a, long, start - mins(30), "x@example.com")
        .await
        .err(409, "slot_unavailable");
}

async fn create_outside_availability_is_slot_unavailable(app: TestApp) {
    let saturday = testkit::time::next_weekday(BERLIN, app.now(), jiff::civil::Weekday::Saturday);
    let r = app
        .try_book(
            &app.a,
            app.a.workday_event_type_id,
            at(BERLIN, saturday, "10:00"),
            "x@example.com",
        )
        .await;
    r.err(409, "slot_unavailable");
    // Off the 30-minute grid.
    let r = app
        .try_book(
            &app.a,
            app.a.event_type_id,
            tomorrow(&app, "10:10"),
            "x@example.com",
        )
        .await;
    r.err(409, "slot_unavailable");
}

async fn create_in_the_past_is_slot_in_past(app: TestApp) {
    let past = at(BERLIN, days_after(BERLIN, app.now(), -1), "10:00");
    app.try_book(&app.a, app.a.event_type_id, past, "x@example.com")
        .await
        .err(409, "slot_in_past");
}

async fn create_on_inactive_event_type(app: TestApp) {
    app.set_event_type_active(&app.a, app.a.event_type_id, false)
        .await;
    app.try_book(
        &app.a,
        app.a.event_type_id,
        tomorrow(&app, "10:00"),
        "x@example.com",
    )
    .await
    .err(409, "event_type_inactive");
}

async fn create_for_unknown_event_type(app: TestApp) {
    app.try_book(
        &app.a,
        uuid::Uuid::new_v4(),
        tomorrow(&app, "10:00"),
        "x@example.com",
    )
    .await
    .err(404, "event_type_not_found");
    let req = json!({
        "username": "alice",
        "event_slug": "nope",
        "start": wire(tomorrow(&app, "10:00")),
        "attendee": {"email": "ann@example.com"},
    });
    app.a
        .api
        .post_json("/v1/bookings", &req, Some(&key()))
        .await
        .err(404, "event_type_not_found");
}

fn status_of(code: &str, r: &testkit::Resp) {
    assert!(matches!(r.status, 400 | 422), "{}", r.describe());
    r.err(r.status, code);
}

async fn attendee_email_is_checked(app: TestApp) {
    for email in ["not-an-email", "jösé@example.com", "a@", "@example.com"] {
        let mut b = body(app.a.event_type_id, tomorrow(&app, "10:00"));
        b["attendee"]["email"] = json!(email);
        let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
        status_of("attendee_email_invalid", &r);
    }
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(0));
}

async fn attendee_phone_is_checked(app: TestApp) {
    let mut b = body(app.a.event_type_id, tomorrow(&app, "10:00"));
    b["attendee"]["sms_opt_in"] = json!(true);
    let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
    status_of("attendee_phone_required", &r);
    for phone in ["015112345678", "+49 abc", "12345"] {
        b["attendee"]["phone"] = json!(phone);
        let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
        status_of("attendee_phone_invalid", &r);
    }
    b["attendee"]["phone"] = json!("+4915112345678");
    let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
    r.ok(201);
}

async fn create_validates_the_body(app: TestApp) {
    let start = wire(tomorrow(&app, "10:00"));
    let et = app.a.event_type_id;
    let cases = [
        (json!({"event_type_id": et, "start": start}), "attendee"),
        (
            json!({"event_type_id": et, "attendee": {"email": "a@example.com"}}),
            "start",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": {"email": "a@example.com"}, "timezone": "Mars/Olympus"}),
            "timezone",
        ),
        (
            json!({"event_type_id": et, "start": "tomorrow", "attendee": {"email": "a@example.com"}}),
            "start",
        ),
        (
            json!({"event_type_id": et, "start": start, "attendee": {"email": "a@example.com", "name": "x".repeat(256)}}),
            "attendee.name",
        ),
    ];
    for (b, field) in cases {
        let r = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
        let d = r.err(422, "validation_error");
        let fields = &d["fields"];
        assert!(
            fields.get(field).is_some(),
            "details.fields must name {field}: {}",
            r.describe()
        );
    }
    let list = app.a.api.get("/v1/bookings").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(0));
}

async fn get_returns_etag_and_responses(app: TestApp) {
    let mut b = body(app.a.event_type_id, tomorrow(&app, "10:00"));
    b["responses"] = json!({"topic": "pricing"});
    let created = app.a.api.post_json("/v1/bookings", &b, Some(&key())).await;
    let uid = created.ok(201)["uid"].as_str().expect("uid").to_owned();
    let r = app.a.api.get(&format!("/v1/bookings/{uid}")).await;
    let d = r.ok(200);
    assert_eq!(r.etag(), "\"1\"");
    assert_eq!(d["version"], 1);
    assert_eq!(d["uid"], uid.as_str());
    assert_eq!(d["responses"], json!({"topic": "pricing"}));
    let head = app.a.api.head(&format!("/v1/bookings/{uid}")).await;
    head.assert_status(200);
    assert_eq!(head.etag(), "\"1\"");
    assert!(head.text.is_empty());
}

async fn get_unknown_or_non_uuid_is_booking_not_found(app: TestApp) {
    for uid in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".to_owned(),
        "01HXXXXXXXXXXXXXXXXXXXXXXX".to_owned(),
        "12345".to_owned(),
    ] {
        app.a
            .api
            .get(&format!("/v1/bookings/{uid}"))
            .await
            .err(404, "booking_not_found");
    }
}

async fn twenty_concurrent_posts_one_slot_one_winner(app: TestApp) {
    let start = at(BERLIN, days_after(BERLIN, app.now(), 3), "10:00");
    let futures = (0..20).map(|i| {
        let api = app.a.api.clone();
        let b = json!({
            "event_type_id": app.a.event_type_id,
            "start": wire(start),
            "attendee": {"email": format!("racer{i}@example.com")},
        });
        async move { api.post_json("/v1/bookings", &b, Some(&key())).await }
    });
    let results = futures::future::join_all(futures).await;
    let wins = results.iter().filter(|r| r.status == 201).count();
    for r in results.iter().filter(|r| r.status != 201) {
        r.err(409, "slot_unavailable");
    }
    assert_eq!(wins, 1, "exactly one winner");
    let list = app.a.api.get("/v1/bookings?limit=100").await;
    assert_eq!(list.ok(200).as_array().map(Vec::len), Some(1));
}

async fn create_accepts_offsets_and_answers_in_utc(app: TestApp) {
    let start = tomorrow(&app, "10:00");
    let offset = start
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5)))
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    assert!(offset.ends_with("+05:00"), "{offset}");
    let req = json!({
        "event_type_id": app.a.event_type_id,
        "start": offset,
        "attendee": {"email": "ann@example.com"},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &req, Some(&key()))
        .await;
    let d = r.ok(201);
    assert_eq!(d["start_at"], wire(start));
    assert_eq!(d["end_at"], wire(start + mins(30)));
    let slots = app
        .a
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={}&start={}",
            app.a.event_type_id,
            offset.replace('+', "%2B")
        ))
        .await;
    assert_eq!(slots.ok(200)["reason"], "slot_busy", "{}", slots.describe());
}
