//! Slots and bookings across DST changes on purpose (§6.4 rules 1, 2, 7): the test clock is moved
//! to the week of a change (Europe/Berlin 2027-03-28 and 2027-10-31, America/New_York 2027-03-14
//! and 2027-11-07); a local day then has 23 or 25 hours, local hours map to shifted UTC instants,
//! and the first slot after the change is bookable. Expected instants are written out in UTC.

use jiff::Timestamp;
use serde_json::{Value, json};
use testkit::time::{BERLIN, mins, ts, wire};
use testkit::{TestApp, both_backends};
use uuid::Uuid;

both_backends!(
    berlin_spring_forward_day_has_23_hours_and_books_after_the_gap,
    berlin_fall_back_day_has_25_hours_and_books_the_second_two_oclock,
    new_york_working_hours_stay_local_across_both_changes,
);

const NEW_YORK: &str = "America/New_York";

/// Starts of the listed slots (each checked to be 30 minutes long and available).
async fn slot_starts(app: &TestApp, query: &str) -> Vec<Timestamp> {
    let r = app.a.api.get(&format!("/v1/slots?{query}")).await;
    r.ok(200)["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("slots array: {}", r.describe()))
        .iter()
        .map(|s| {
            assert_eq!(s["available"], true, "{s}");
            let start = ts(s["start"].as_str().expect("start"));
            assert_eq!(
                ts(s["end"].as_str().expect("end")),
                start + mins(30),
                "a slot lasts 30 real minutes: {s}"
            );
            start
        })
        .collect()
}

/// `HH:MM` of `t` in `zone`.
fn local(zone: &str, t: Timestamp) -> String {
    t.in_tz(zone).expect("zone").strftime("%H:%M").to_string()
}

/// Books `start` and checks the echoed instants.
async fn book_at(app: &TestApp, et: Uuid, start: &str) -> Value {
    let d = app.book(&app.a, et, ts(start)).await;
    assert_eq!(d["start_at"], wire(ts(start)), "{d}");
    assert_eq!(d["end_at"], wire(ts(start) + mins(30)), "{d}");
    d
}

async fn berlin_spring_forward_day_has_23_hours_and_books_after_the_gap(app: TestApp) {
    app.clock.set(ts("2027-03-26T06:00:00Z"));
    let et = app.a.event_type_id;
    let q = format!("event_type_id={et}&start=2027-03-28&end=2027-03-29&timezone={BERLIN}");
    let got = slot_starts(&app, &q).await;
    assert_eq!(got.len(), 46, "23 local hours of 30-minute slots");
    assert_eq!(got[0], ts("2027-03-27T23:00:00Z"), "00:00 CET");
    for (i, t) in got.iter().enumerate() {
        assert_eq!(
            *t,
            got[0] + mins(30 * i as i64),
            "slot {i} on the absolute grid"
        );
        assert_ne!(
            &local(BERLIN, *t)[..2],
            "02",
            "02:xx does not exist that night"
        );
    }
    assert_eq!(got[3], ts("2027-03-28T00:30:00Z"));
    assert_eq!(
        local(BERLIN, got[3]),
        "01:30",
        "last slot before the change"
    );
    assert_eq!(got[4], ts("2027-03-28T01:00:00Z"));
    assert_eq!(
        local(BERLIN, got[4]),
        "03:00",
        "first slot after the change"
    );
    assert_eq!(got[45], ts("2027-03-28T21:30:00Z"), "23:30 CEST");

    book_at(&app, et, "2027-03-28T01:00:00Z").await;
    let after = slot_starts(&app, &q).await;
    assert_eq!(after.len(), 45);
    assert!(!after.contains(&ts("2027-03-28T01:00:00Z")), "{after:?}");
    assert!(after.contains(&ts("2027-03-28T00:30:00Z")));
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={et}&start=2027-03-28T03:00:00%2B02:00"
        ))
        .await;
    let d = r.ok(200);
    assert_eq!(d["available"], false, "{}", r.describe());
    assert_eq!(d["reason"], "slot_busy");
    assert_eq!(d["next_available"], "2027-03-28T01:30:00.000Z");
}

async fn berlin_fall_back_day_has_25_hours_and_books_the_second_two_oclock(app: TestApp) {
    app.clock.set(ts("2027-10-29T06:00:00Z"));
    let et = app.a.event_type_id;
    let q = format!("event_type_id={et}&start=2027-10-31&end=2027-11-01&timezone={BERLIN}");
    let got = slot_starts(&app, &q).await;
    assert_eq!(got.len(), 50, "25 local hours of 30-minute slots");
    assert_eq!(got[0], ts("2027-10-30T22:00:00Z"), "00:00 CEST");
    assert_eq!(got[49], ts("2027-10-31T22:30:00Z"), "23:30 CET");
    for (i, t) in got.iter().enumerate() {
        assert_eq!(
            *t,
            got[0] + mins(30 * i as i64),
            "slot {i} on the absolute grid"
        );
    }
    let twos: Vec<Timestamp> = got
        .iter()
        .copied()
        .filter(|t| local(BERLIN, *t) == "02:00")
        .collect();
    assert_eq!(
        twos,
        [ts("2027-10-31T00:00:00Z"), ts("2027-10-31T01:00:00Z")],
        "02:00 happens twice, in CEST and in CET"
    );

    book_at(&app, et, "2027-10-31T01:00:00Z").await;
    let after = slot_starts(&app, &q).await;
    assert_eq!(after.len(), 49);
    assert!(!after.contains(&ts("2027-10-31T01:00:00Z")), "{after:?}");
    assert!(
        after.contains(&ts("2027-10-31T00:00:00Z")),
        "the first 02:00 (CEST) stays free"
    );
    book_at(&app, et, "2027-10-31T00:00:00Z").await;
}

/// A Mon–Sun 09:00–17:00 New York schedule for the owner of org A and a 30-minute event type on
/// it; returns the event type id.
async fn new_york_event_type(app: &TestApp) -> Uuid {
    let body = json!({
        "name": "New York hours",
        "timezone": NEW_YORK,
        "rules": [{
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "09:00",
            "end": "17:00",
        }],
    });
    let r = app.a.api.post_json("/v1/schedules", &body, None).await;
    let schedule = r.ok(201)["id"].as_str().expect("id").to_owned();
    let body = json!({
        "slug": "ny-call",
        "title": "New York call",
        "duration_minutes": 30,
        "hosts": [{"user_id": app.a.owner.user_id, "schedule_id": schedule}],
    });
    let r = app.a.api.post_json("/v1/event-types", &body, None).await;
    r.ok(201)["id"].as_str().expect("id").parse().expect("uuid")
}

/// Asserts that the slots of three local days start at 09:00 local and run to 16:30 local,
/// with the given first instants per day (UTC).
fn assert_working_days(got: &[Timestamp], day_starts: [&str; 3]) {
    assert_eq!(got.len(), 3 * 16, "16 half hours per local day: {got:?}");
    for (day, chunk) in got.chunks(16).enumerate() {
        assert_eq!(
            chunk[0],
            ts(day_starts[day]),
            "day {day} starts at 09:00 local"
        );
        for (i, t) in chunk.iter().enumerate() {
            assert_eq!(*t, chunk[0] + mins(30 * i as i64), "day {day} slot {i}");
        }
        assert_eq!(local(NEW_YORK, chunk[0]), "09:00");
        assert_eq!(local(NEW_YORK, chunk[15]), "16:30");
    }
}

async fn new_york_working_hours_stay_local_across_both_changes(app: TestApp) {
    let et = new_york_event_type(&app).await;

    app.clock.set(ts("2027-03-12T06:00:00Z"));
    let q = format!("event_type_id={et}&start=2027-03-13&end=2027-03-16");
    let r = app.a.api.get(&format!("/v1/slots?{q}")).await;
    assert_eq!(
        r.ok(200)["timezone"],
        NEW_YORK,
        "the default zone is the schedule's"
    );
    let got = slot_starts(&app, &q).await;
    // Sat 09:00 EST = 14:00Z; Sun (the change, 02:00 EST -> 03:00 EDT) and Mon 09:00 EDT = 13:00Z.
    assert_working_days(
        &got,
        [
            "2027-03-13T14:00:00Z",
            "2027-03-14T13:00:00Z",
            "2027-03-15T13:00:00Z",
        ],
    );
    book_at(&app, et, "2027-03-14T13:00:00Z").await;
    assert!(
        !slot_starts(&app, &q)
            .await
            .contains(&ts("2027-03-14T13:00:00Z"))
    );

    app.clock.set(ts("2027-11-05T06:00:00Z"));
    let q = format!("event_type_id={et}&start=2027-11-06&end=2027-11-09&timezone={NEW_YORK}");
    let got = slot_starts(&app, &q).await;
    // Sat 09:00 EDT = 13:00Z; Sun (the change, 02:00 EDT -> 01:00 EST) and Mon 09:00 EST = 14:00Z.
    assert_working_days(
        &got,
        [
            "2027-11-06T13:00:00Z",
            "2027-11-07T14:00:00Z",
            "2027-11-08T14:00:00Z",
        ],
    );
    book_at(&app, et, "2027-11-07T14:00:00Z").await;
    assert!(
        !slot_starts(&app, &q)
            .await
            .contains(&ts("2027-11-07T14:00:00Z"))
    );
}
