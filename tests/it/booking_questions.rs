//! An event type's questions are enforced on the API as on the booking page (§3.8 "public-page
//! parity"): `POST /v1/bookings` and `PATCH /v1/bookings/{uid}` (`responses` replaces the
//! answers) refuse a missing required answer, an answer to an unknown key and an answer of the
//! wrong type with one `422 validation_error`, one detail per failing key; and every failing
//! field of a body comes back in that one 422.

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends, key};

both_backends!(
    create_enforces_the_questions,
    create_reports_every_failing_field_at_once,
    patch_responses_are_checked_against_the_questions,
    event_types_without_questions_take_free_form_responses,
);

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

/// An event type asking: company (text, required), terms (checkbox, required), size
/// (number), contact (e-mail).
async fn event_type_with_questions(app: &TestApp) -> String {
    let body = json!({
        "slug": "with-questions",
        "title": "Questions",
        "duration_minutes": 30,
        "hosts": [{"user_id": app.a.owner.user_id}],
        "questions": [
            {"key": "company", "label": "Company", "type": "text", "required": true},
            {"key": "terms", "label": "Terms", "type": "checkbox", "required": true},
            {"key": "size", "label": "Team size", "type": "number"},
            {"key": "contact", "label": "Contact", "type": "email"},
        ],
    });
    let r = app.a.api.post_json("/v1/event-types", &body, None).await;
    r.ok(201)["id"].as_str().expect("id").to_owned()
}

fn booking(et: &str, start: jiff::Timestamp, responses: Value) -> Value {
    json!({
        "event_type_id": et,
        "start": wire(start),
        "attendee": {"email": "ann@example.com", "name": "Ann"},
        "responses": responses,
    })
}

/// `details.fields` of a 422 `code`, with exactly one message per field.
fn fields(r: &testkit::Resp, code: &str) -> Vec<String> {
    let d = r.err(422, code);
    let map = d["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("details.fields object: {}", r.describe()));
    for (k, v) in map {
        assert_eq!(
            v.as_array().map(Vec::len),
            Some(1),
            "one message for {k}: {}",
            r.describe()
        );
    }
    let mut names: Vec<String> = map.keys().cloned().collect();
    names.sort();
    names
}

async fn bookings_count(app: &TestApp) -> usize {
    let list = app.a.api.get("/v1/bookings").await;
    list.ok(200).as_array().map_or(0, Vec::len)
}

async fn create_enforces_the_questions(app: TestApp) {
    let et = event_type_with_questions(&app).await;
    let start = tomorrow(&app, "10:00");
    let mut no_answers = booking(&et, start, json!({}));
    no_answers
        .as_object_mut()
        .expect("object")
        .remove("responses");
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &no_answers, Some(&key()))
        .await;
    assert_eq!(
        fields(&r, "validation_error"),
        ["responses.company", "responses.terms"]
    );

    let bad = booking(
        &et,
        start,
        json!({"company": "  ", "terms": false, "size": "many", "contact": 7, "budget": 100}),
    );
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &bad, Some(&key()))
        .await;
    assert_eq!(
        fields(&r, "validation_error"),
        [
            "responses.budget",
            "responses.company",
            "responses.contact",
            "responses.size",
            "responses.terms"
        ]
    );
    let d = r.details();
    assert_eq!(d["fields"]["responses.company"][0], "is required");
    assert_eq!(
        d["fields"]["responses.budget"][0],
        "is not a question of this event type"
    );
    assert_eq!(d["fields"]["responses.contact"][0], "must be a string");
    let wrong_types = booking(
        &et,
        start,
        json!({"company": ["Acme"], "terms": "yes", "size": true}),
    );
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &wrong_types, Some(&key()))
        .await;
    assert_eq!(
        fields(&r, "validation_error"),
        ["responses.company", "responses.size", "responses.terms"]
    );
    assert_eq!(bookings_count(&app).await, 0, "nothing was booked");

    let good = booking(
        &et,
        start,
        json!({"company": "Acme", "terms": true, "size": 12, "contact": "bo@example.com"}),
    );
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &good, Some(&key()))
        .await;
    let uid = r.ok(201)["uid"].as_str().expect("uid").to_owned();
    let g = app.get_booking(&app.a, &uid).await;
    assert_eq!(
        g["responses"],
        json!({"company": "Acme", "terms": true, "size": 12, "contact": "bo@example.com"})
    );
}

async fn create_reports_every_failing_field_at_once(app: TestApp) {
    let et = event_type_with_questions(&app).await;
    let body = json!({
        "event_type_id": et,
        "start": "tomorrow at ten",
        "timezone": "Mars/Olympus",
        "attendee": {"email": "not-an-address", "name": "x".repeat(256)},
        "guests": ["ok@example.com", "nope"],
        "responses": {"terms": true},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &body, Some(&key()))
        .await;
    assert_eq!(
        fields(&r, "attendee_email_invalid"),
        [
            "attendee.email",
            "attendee.name",
            "guests[1]",
            "responses.company",
            "start",
            "timezone"
        ]
    );
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("attendee.email "), "{}", r.describe());

    // Without an event type the answers cannot be checked; everything else still is.
    let body = json!({
        "start": wire(tomorrow(&app, "10:00")),
        "attendee": {"email": "ann@example.com", "phone": "0301234"},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &body, Some(&key()))
        .await;
    assert_eq!(
        fields(&r, "attendee_phone_invalid"),
        ["attendee.phone", "event_type_id"]
    );
    assert_eq!(bookings_count(&app).await, 0);
}

async fn patch_responses_are_checked_against_the_questions(app: TestApp) {
    let et = event_type_with_questions(&app).await;
    let good = booking(
        &et,
        tomorrow(&app, "11:00"),
        json!({"company": "Acme", "terms": true}),
    );
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &good, Some(&key()))
        .await;
    let uid = r.ok(201)["uid"].as_str().expect("uid").to_owned();
    let path = format!("/v1/bookings/{uid}");

    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"responses": {"terms": true, "size": "ten", "colour": "red"}}),
            Some("\"1\""),
            Some(&key()),
        )
        .await;
    assert_eq!(
        fields(&r, "validation_error"),
        ["responses.colour", "responses.company", "responses.size"]
    );
    let g = app.a.api.get(&path).await;
    assert_eq!(g.etag(), "\"1\"", "a refused patch changes nothing");

    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"responses": {"company": "Beta", "terms": true, "size": "10"}}),
            Some("\"1\""),
            Some(&key()),
        )
        .await;
    assert_eq!(
        r.ok(200)["responses"],
        json!({"company": "Beta", "terms": true, "size": "10"})
    );
    assert_eq!(r.etag(), "\"2\"");
}

async fn event_types_without_questions_take_free_form_responses(app: TestApp) {
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": wire(tomorrow(&app, "12:00")),
        "attendee": {"email": "ann@example.com"},
        "responses": {"anything": {"nested": [1, 2]}, "n": 3},
    });
    let r = app
        .a
        .api
        .post_json("/v1/bookings", &body, Some(&key()))
        .await;
    let d = r.ok(201);
    assert_eq!(
        d["responses"],
        json!({"anything": {"nested": [1, 2]}, "n": 3})
    );
    assert_eq!(d["attendees"][0]["name"], "ann", "the default name");
}
