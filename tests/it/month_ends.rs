//! Booking limits at month ends on purpose (§6.4 rule 5): limits count local days and calendar
//! months in the host schedule's zone, so near midnight the UTC date and the local date differ.
//! Berlin's 2027-01-31 23:00Z is already February; New York's 2027-03-01 04:30Z is still
//! February; Berlin's 2027-10-31 is a month end and a 25-hour DST day at once.

use jiff::Timestamp;
use serde_json::{Value, json};
use testkit::time::{ts, wire};
use testkit::{TestApp, both_backends};
use uuid::Uuid;

both_backends!(
    berlin_month_limit_turns_over_at_local_midnight_before_utc,
    new_york_month_limit_turns_over_at_local_midnight_after_utc,
    day_limit_on_the_last_day_of_october_in_berlin,
);

/// Starts of the listed slots in `[from, to)` (RFC 3339 bounds).
async fn slot_starts(app: &TestApp, et: Uuid, from: &str, to: &str) -> Vec<Timestamp> {
    let q = format!(
        "event_type_id={et}&start={}&end={}",
        wire(ts(from)),
        wire(ts(to))
    );
    let r = app.a.api.get(&format!("/v1/slots?{q}")).await;
    r.ok(200)["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("slots array: {}", r.describe()))
        .iter()
        .map(|s| ts(s["start"].as_str().expect("start")))
        .collect()
}

/// Sets one booking limit (`max_bookings_per_day` / `_week` / `_month`) on `et` (version 1).
async fn limit(app: &TestApp, et: Uuid, field: &str, n: u32) {
    let r = app
        .a
        .api
        .patch_json(
            &format!("/v1/event-types/{et}"),
            &json!({ field: n }),
            Some("\"1\""),
            None,
        )
        .await;
    assert_eq!(r.ok(200)[field], n, "{}", r.describe());
}

async fn book_at(app: &TestApp, et: Uuid, start: &str) -> Value {
    let d = app.book(&app.a, et, ts(start)).await;
    assert_eq!(d["start_at"], wire(ts(start)), "{d}");
    d
}

async fn refused(app: &TestApp, et: Uuid, start: &str) {
    app.try_book(&app.a, et, ts(start), "late@example.com")
        .await
        .err(409, "slot_unavailable");
}

async fn berlin_month_limit_turns_over_at_local_midnight_before_utc(app: TestApp) {
    app.clock.set(ts("2027-01-29T06:00:00Z"));
    let et = app.a.event_type_id;
    limit(&app, et, "max_bookings_per_month", 1).await;
    // 23:30 on Sunday 31 January in Berlin (CET, UTC+1).
    book_at(&app, et, "2027-01-31T22:30:00Z").await;
    let got = slot_starts(&app, et, "2027-01-31T00:00:00Z", "2027-02-01T06:00:00Z").await;
    assert_eq!(
        got.first().copied(),
        Some(ts("2027-01-31T23:00:00Z")),
        "January is full; February begins at 00:00 Berlin = 23:00Z on 31 January: {got:?}"
    );
    assert_eq!(
        got.len(),
        14,
        "00:00..06:00 Berlin, every 30 minutes: {got:?}"
    );
    refused(&app, et, "2027-01-31T10:00:00Z").await;
    book_at(&app, et, "2027-01-31T23:00:00Z").await;
    assert!(
        slot_starts(&app, et, "2027-01-31T00:00:00Z", "2027-02-28T23:00:00Z")
            .await
            .is_empty(),
        "now February (local, until 23:00Z on the 28th) is full too"
    );
    refused(&app, et, "2027-02-28T22:30:00Z").await;
    assert_eq!(
        slot_starts(&app, et, "2027-02-28T22:00:00Z", "2027-03-01T00:00:00Z").await,
        [ts("2027-02-28T23:00:00Z"), ts("2027-02-28T23:30:00Z")],
        "March begins at 00:00 Berlin = 23:00Z on 28 February"
    );
}

/// An all-day New York schedule for the owner of org A and a 30-minute event type on it.
async fn new_york_event_type(app: &TestApp) -> Uuid {
    let body = json!({
        "name": "New York, all day",
        "timezone": "America/New_York",
        "rules": [{
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        }],
    });
    let r = app.a.api.post_json("/v1/schedules", &body, None).await;
    let schedule = r.ok(201)["id"].as_str().expect("id").to_owned();
    let body = json!({
        "slug": "ny-month",
        "title": "New York monthly",
        "duration_minutes": 30,
        "hosts": [{"user_id": app.a.owner.user_id, "schedule_id": schedule}],
    });
    let r = app.a.api.post_json("/v1/event-types", &body, None).await;
    r.ok(201)["id"].as_str().expect("id").parse().expect("uuid")
}

async fn new_york_month_limit_turns_over_at_local_midnight_after_utc(app: TestApp) {
    app.clock.set(ts("2027-02-25T12:00:00Z"));
    let et = new_york_event_type(&app).await;
    limit(&app, et, "max_bookings_per_month", 1).await;
    // 23:30 on Sunday 28 February in New York (EST, UTC-5): already 1 March in UTC.
    book_at(&app, et, "2027-03-01T04:30:00Z").await;
    let got = slot_starts(&app, et, "2027-02-28T12:00:00Z", "2027-03-01T06:00:00Z").await;
    assert_eq!(
        got,
        [ts("2027-03-01T05:00:00Z"), ts("2027-03-01T05:30:00Z")],
        "the rest of February (local) is full, including 1 March 00:00..04:30Z; March begins \
         at 00:00 New York = 05:00Z"
    );
    refused(&app, et, "2027-03-01T04:00:00Z").await;
    book_at(&app, et, "2027-03-01T05:00:00Z").await;
    refused(&app, et, "2027-03-15T15:00:00Z").await;
}

async fn day_limit_on_the_last_day_of_october_in_berlin(app: TestApp) {
    app.clock.set(ts("2027-10-29T06:00:00Z"));
    let et = app.a.event_type_id;
    limit(&app, et, "max_bookings_per_day", 1).await;
    // 23:30 CET on Sunday 31 October, the 25-hour day that also ends the month.
    book_at(&app, et, "2027-10-31T22:30:00Z").await;
    let got = slot_starts(&app, et, "2027-10-30T22:00:00Z", "2027-11-01T00:00:00Z").await;
    assert_eq!(
        got,
        [ts("2027-10-31T23:00:00Z"), ts("2027-10-31T23:30:00Z")],
        "all 25 hours of 31 October are closed; 1 November begins at 23:00Z"
    );
    refused(&app, et, "2027-10-30T22:00:00Z").await; // 00:00 CEST on the 31st
    refused(&app, et, "2027-10-31T01:00:00Z").await; // the second 02:00
    book_at(&app, et, "2027-10-31T23:00:00Z").await;
    let prev = slot_starts(&app, et, "2027-10-30T21:00:00Z", "2027-10-30T22:00:00Z").await;
    assert_eq!(
        prev,
        [ts("2027-10-30T21:00:00Z"), ts("2027-10-30T21:30:00Z")],
        "30 October (23:00 and 23:30 CEST) is untouched"
    );
}
