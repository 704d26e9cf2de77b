//! `GET /v1/slots` and `GET /v1/slots/check` (§3.5, §3.6, §6.4): windows, plain dates in a
//! zone, notice and horizon, buffers, bookings, round robin, group seats, check reasons.

use jiff::Timestamp;
use jiff::civil::Weekday;
use serde_json::Value;
use testkit::time::{BERLIN, at, days_after, hours, mins, next_weekday, ts, wire};
use testkit::{EventTypeSpec, TestApp, both_backends, key};
use uuid::Uuid;

both_backends!(
    a_local_day_of_slots_in_berlin,
    plain_dates_are_local_midnight_in_timezone,
    slots_in_the_past_are_not_listed,
    window_of_31_days_works_and_32_is_rejected,
    wide_ranges_are_truncated,
    slots_reject_bad_query_params,
    slots_by_username_and_slug,
    workday_schedule_is_mon_to_fri_nine_to_five,
    booked_slots_disappear_across_event_types,
    buffers_block_neighbouring_slots,
    minimum_notice_and_future_limit,
    round_robin_reports_and_assigns_hosts,
    group_seats_share_a_slot,
    check_available_and_reasons,
    check_slot_busy_suggests_next_available,
    check_rejects_bad_query_params,
    default_timezone_is_the_schedule_zone,
    booking_limits_per_day_close_the_day,
);

/// `(start, host_user_id)` of every listed slot.
async fn slots(app: &TestApp, query: &str) -> Vec<(Timestamp, Option<String>)> {
    let r = app.a.api.get(&format!("/v1/slots?{query}")).await;
    let d = r.ok(200);
    d["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("slots array: {}", r.describe()))
        .iter()
        .map(|s| {
            assert_eq!(s["available"], true, "{s}");
            (
                ts(s["start"].as_str().expect("start")),
                s["host_user_id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn starts(v: &[(Timestamp, Option<String>)]) -> Vec<Timestamp> {
    v.iter().map(|(t, _)| *t).collect()
}

fn window(et: Uuid, from: Timestamp, to: Timestamp) -> String {
    format!("event_type_id={et}&start={}&end={}", wire(from), wire(to))
}

async fn a_local_day_of_slots_in_berlin(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 1);
    let next = days_after(BERLIN, app.now(), 2);
    let q = format!(
        "event_type_id={}&start={day}&end={next}&timezone=Europe/Berlin",
        app.a.event_type_id
    );
    let r = app.a.api.get(&format!("/v1/slots?{q}")).await;
    let d = r.ok(200);
    assert_eq!(d["event_type_id"], app.a.event_type_id.to_string());
    assert_eq!(d["timezone"], "Europe/Berlin");
    assert_eq!(
        d["computed_at"],
        wire(app.now()),
        "computed_at is the server's now"
    );
    assert!(d["truncated"].is_null() || d["truncated"] == false);
    let list = d["slots"].as_array().expect("slots");
    let first_start = at(BERLIN, day, "00:00");
    let day_len = at(BERLIN, next, "00:00").duration_since(first_start);
    assert_eq!(
        list.len() as i64,
        day_len.as_secs() / 1800,
        "every 30 minutes, all day"
    );
    assert_eq!(list[0]["start"], wire(first_start));
    assert_eq!(list[0]["end"], wire(first_start + mins(30)));
    for (i, s) in list.iter().enumerate() {
        let start = ts(s["start"].as_str().expect("start"));
        assert_eq!(start, first_start + mins(30 * i as i64), "slot {i}");
        assert_eq!(
            s["start"].as_str().map(str::len),
            Some(24),
            "ms UTC format: {s}"
        );
    }
}

async fn plain_dates_are_local_midnight_in_timezone(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 2);
    let next = days_after(BERLIN, app.now(), 3);
    let got = starts(
        &slots(
            &app,
            &format!(
                "event_type_id={}&start={day}&end={next}&timezone=America/New_York",
                app.a.event_type_id
            ),
        )
        .await,
    );
    let from = at("America/New_York", day, "00:00");
    let to = at("America/New_York", next, "00:00");
    assert_eq!(
        got.first().copied(),
        Some(from),
        "first slot at New York midnight"
    );
    assert!(got.iter().all(|t| *t >= from && *t < to), "{got:?}");
    assert_eq!(got.len() as i64, to.duration_since(from).as_secs() / 1800);
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={}&start={day}&end={next}&timezone=America/New_York",
            app.a.event_type_id
        ))
        .await;
    assert_eq!(r.ok(200)["timezone"], "America/New_York");
}

async fn slots_in_the_past_are_not_listed(app: TestApp) {
    let now = app.now();
    let today = days_after(BERLIN, now, 0);
    let from = at(BERLIN, today, "00:00");
    let got = starts(&slots(&app, &window(app.a.event_type_id, from, from + hours(24))).await);
    let first = *got.first().expect("slots later today");
    assert!(
        first >= now && first < now + mins(30),
        "first {first} vs now {now}"
    );
}

async fn window_of_31_days_works_and_32_is_rejected(app: TestApp) {
    let from = at(BERLIN, days_after(BERLIN, app.now(), 1), "00:00");
    let ok = app
        .a
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(app.a.event_type_id, from, from + hours(24 * 31))
        ))
        .await;
    let n = ok.ok(200)["slots"].as_array().map(Vec::len).unwrap_or(0);
    assert!(n > 1000, "31 days of all-day slots: {n}");
    app.a
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(app.a.event_type_id, from, from + hours(24 * 32))
        ))
        .await
        .bad_param("end");
    app.a
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(app.a.event_type_id, from, from + hours(24 * 31) + mins(1))
        ))
        .await
        .bad_param("end");
}

async fn wide_ranges_are_truncated(app: TestApp) {
    let mut spec = EventTypeSpec::individual("quick");
    spec.duration_minutes = 5;
    let et = app.create_event_type(&app.a, spec).await;
    let from = at(BERLIN, days_after(BERLIN, app.now(), 1), "00:00");
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(et, from, from + hours(24 * 14))
        ))
        .await;
    let d = r.ok(200);
    assert_eq!(d["truncated"], true, "{}", r.describe().len());
    assert_eq!(d["slots"].as_array().map(Vec::len), Some(2000));
    assert_eq!(d["slots"][0]["start"], wire(from));
}

async fn slots_reject_bad_query_params(app: TestApp) {
    let et = app.a.event_type_id;
    let from = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "00:00"));
    let to = wire(at(BERLIN, days_after(BERLIN, app.now(), 2), "00:00"));
    let cases = [
        (format!("event_type_id={et}&end={to}"), "start"),
        (format!("event_type_id={et}&start={from}"), "end"),
        (
            format!("event_type_id={et}&start=yesterday&end={to}"),
            "start",
        ),
        (
            format!("event_type_id={et}&start={from}&end=2026-13-45"),
            "end",
        ),
        (format!("event_type_id={et}&start={to}&end={from}"), "end"),
        (
            format!("event_type_id=not-a-uuid&start={from}&end={to}"),
            "event_type_id",
        ),
        (
            format!("event_type_id={et}&start={from}&end={to}&timezone=Mars/Olympus"),
            "timezone",
        ),
    ];
    for (q, param) in cases {
        let r = app.a.api.get(&format!("/v1/slots?{q}")).await;
        r.bad_param(param);
    }
    let r = app
        .a
        .api
        .get(&format!("/v1/slots?start={from}&end={to}"))
        .await;
    r.err(400, "invalid_query_param");
    app.a
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(Uuid::new_v4(), ts(&from), ts(&to))
        ))
        .await
        .err(404, "event_type_not_found");
    app.a
        .api
        .get(&format!(
            "/v1/slots?username=alice&event_slug=nope&start={from}&end={to}"
        ))
        .await
        .err(404, "event_type_not_found");
}

async fn slots_by_username_and_slug(app: TestApp) {
    let from = at(BERLIN, days_after(BERLIN, app.now(), 1), "00:00");
    let by_id = slots(&app, &window(app.a.event_type_id, from, from + hours(24))).await;
    let by_slug = slots(
        &app,
        &format!(
            "username=alice&event_slug=intro-call&start={}&end={}",
            wire(from),
            wire(from + hours(24))
        ),
    )
    .await;
    assert!(!by_id.is_empty());
    assert_eq!(by_id, by_slug);
}

async fn workday_schedule_is_mon_to_fri_nine_to_five(app: TestApp) {
    let monday = next_weekday(BERLIN, app.now(), Weekday::Monday);
    let next_monday = monday.checked_add(jiff::ToSpan::days(7)).expect("date");
    let got = starts(
        &slots(
            &app,
            &format!(
                "event_type_id={}&start={monday}&end={next_monday}&timezone=Europe/Berlin",
                app.a.workday_event_type_id
            ),
        )
        .await,
    );
    assert_eq!(got.len(), 5 * 16, "{got:?}");
    assert_eq!(got[0], at(BERLIN, monday, "09:00"));
    let friday = monday.checked_add(jiff::ToSpan::days(4)).expect("date");
    assert_eq!(got.last().copied(), Some(at(BERLIN, friday, "16:30")));
    let tz = jiff::tz::TimeZone::get(BERLIN).expect("zone");
    for t in &got {
        let local = tz.to_datetime(*t);
        assert!(!matches!(
            local.weekday(),
            Weekday::Saturday | Weekday::Sunday
        ));
        assert!(local.hour() >= 9 && local.hour() < 17, "{local}");
    }
}

async fn booked_slots_disappear_across_event_types(app: TestApp) {
    let monday = next_weekday(BERLIN, app.now(), Weekday::Monday);
    let ten = at(BERLIN, monday, "10:00");
    let from = at(BERLIN, monday, "00:00");
    let before = starts(&slots(&app, &window(app.a.event_type_id, from, from + hours(24))).await);
    assert!(before.contains(&ten));
    app.book(&app.a, app.a.event_type_id, ten).await;
    let after = starts(&slots(&app, &window(app.a.event_type_id, from, from + hours(24))).await);
    assert!(!after.contains(&ten), "booked slot still listed");
    assert_eq!(after.len(), before.len() - 1);
    // The same host's other event type loses the time too.
    let work = starts(
        &slots(
            &app,
            &window(app.a.workday_event_type_id, from, from + hours(24)),
        )
        .await,
    );
    assert!(
        !work.contains(&ten) && work.contains(&(ten + mins(30))),
        "{work:?}"
    );
    // Org B's identical event type is unaffected.
    let rb = app
        .b
        .api
        .get(&format!(
            "/v1/slots?{}",
            window(app.b.event_type_id, from, from + hours(24))
        ))
        .await;
    assert!(
        rb.ok(200)["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .any(|s| s["start"] == wire(ten))
    );
}

async fn buffers_block_neighbouring_slots(app: TestApp) {
    let mut spec = EventTypeSpec::individual("buffered");
    spec.buffer_after_minutes = 30;
    let et = app.create_event_type(&app.a, spec).await;
    let day = days_after(BERLIN, app.now(), 2);
    let ten = at(BERLIN, day, "10:00");
    app.book(&app.a, et, ten).await;
    let got = starts(&slots(&app, &window(et, ten - hours(2), ten + hours(2))).await);
    for gone in [ten - mins(30), ten, ten + mins(30)] {
        assert!(!got.contains(&gone), "{gone} should be blocked: {got:?}");
    }
    for kept in [ten - mins(60), ten + mins(60)] {
        assert!(got.contains(&kept), "{kept} should be free: {got:?}");
    }
}

async fn minimum_notice_and_future_limit(app: TestApp) {
    let mut spec = EventTypeSpec::individual("noticed");
    spec.minimum_notice_hours = 2;
    spec.future_limit_days = 2;
    let et = app.create_event_type(&app.a, spec).await;
    let now = app.now();
    let today = at(BERLIN, days_after(BERLIN, now, 0), "00:00");
    let got = starts(&slots(&app, &window(et, today, today + hours(24 * 5))).await);
    let first = *got.first().expect("slots");
    assert!(
        first >= now + hours(2) && first < now + hours(2) + mins(30),
        "{first}"
    );
    let horizon = at(BERLIN, days_after(BERLIN, now, 3), "00:00");
    let last = *got.last().expect("slots");
    assert!(last < horizon, "{last} beyond the horizon {horizon}");
    assert_eq!(last, horizon - mins(30));
}

async fn round_robin_reports_and_assigns_hosts(app: TestApp) {
    let carol = app.create_host(&app.a, "carol").await;
    let et = app
        .create_event_type(
            &app.a,
            EventTypeSpec::collective("team", &[&app.a.owner, &carol]),
        )
        .await;
    let ten = at(BERLIN, days_after(BERLIN, app.now(), 2), "10:00");
    let alice = app.a.owner.user_id.to_string();
    let carol_id = carol.user_id.to_string();
    let listed = slots(&app, &window(et, ten, ten + hours(1))).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], (ten, Some(alice.clone())), "tie → earlier host");
    let b1 = app.book_as(&app.a, et, ten, "one@example.com").await;
    assert_eq!(b1["host"]["user_id"], alice.as_str());
    let listed = slots(&app, &window(et, ten, ten + mins(30))).await;
    assert_eq!(
        listed,
        vec![(ten, Some(carol_id.clone()))],
        "the free host is offered"
    );
    let b2 = app.book_as(&app.a, et, ten, "two@example.com").await;
    assert_eq!(b2["host"]["user_id"], carol_id.as_str());
    assert!(
        slots(&app, &window(et, ten, ten + mins(30)))
            .await
            .is_empty()
    );
    app.try_book(&app.a, et, ten, "three@example.com")
        .await
        .err(409, "slot_unavailable");
}

async fn group_seats_share_a_slot(app: TestApp) {
    let et = app
        .create_event_type(&app.a, EventTypeSpec::group("workshop", 2))
        .await;
    let ten = at(BERLIN, days_after(BERLIN, app.now(), 2), "10:00");
    let w = window(et, ten, ten + mins(30));
    let first = app.book_as(&app.a, et, ten, "one@example.com").await;
    assert_eq!(starts(&slots(&app, &w).await), vec![ten], "one seat left");
    let second = app.book_as(&app.a, et, ten, "two@example.com").await;
    assert!(slots(&app, &w).await.is_empty(), "full");
    app.try_book(&app.a, et, ten, "three@example.com")
        .await
        .err(409, "slot_unavailable");
    let uid = first["uid"].as_str().expect("uid");
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/cancel"),
            &serde_json::json!({}),
            Some(&key()),
        )
        .await
        .ok(200);
    assert_eq!(
        starts(&slots(&app, &w).await),
        vec![ten],
        "a seat was released"
    );
    let other = app
        .get_booking(&app.a, second["uid"].as_str().expect("uid"))
        .await;
    assert_eq!(
        other["status"], "confirmed",
        "only one registration is canceled"
    );
    app.book_as(&app.a, et, ten, "three@example.com").await;
}

async fn check(app: &TestApp, et: Uuid, start: Timestamp) -> Value {
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={et}&start={}",
            wire(start)
        ))
        .await;
    r.ok(200).clone()
}

fn assert_unavailable(d: &Value, reason: &str) {
    assert_eq!(d["available"], false, "{d}");
    assert_eq!(d["reason"], reason, "{d}");
    assert!(d.get("duration_minutes").is_none_or(Value::is_null), "{d}");
}

async fn check_available_and_reasons(app: TestApp) {
    let now = app.now();
    let tomorrow_ten = at(BERLIN, days_after(BERLIN, now, 1), "10:00");
    let d = check(&app, app.a.event_type_id, tomorrow_ten).await;
    assert_eq!(d["available"], true, "{d}");
    assert_eq!(d["duration_minutes"], 30);
    assert!(d.get("reason").is_none_or(Value::is_null), "{d}");

    let with_end = app
        .a
        .api
        .get(&format!(
            "/v1/slots/check?username=alice&event_slug=intro-call&start={}&end={}",
            wire(tomorrow_ten),
            wire(tomorrow_ten + mins(30))
        ))
        .await;
    assert_eq!(with_end.ok(200)["available"], true);

    let past = at(BERLIN, days_after(BERLIN, now, -1), "10:00");
    assert_unavailable(&check(&app, app.a.event_type_id, past).await, "in_past");

    let mut spec = EventTypeSpec::individual("noticed");
    spec.minimum_notice_hours = 48;
    let noticed = app.create_event_type(&app.a, spec).await;
    assert_unavailable(
        &check(&app, noticed, tomorrow_ten).await,
        "outside_minimum_notice",
    );

    let far = at(BERLIN, days_after(BERLIN, now, 61), "10:00");
    assert_unavailable(
        &check(&app, app.a.event_type_id, far).await,
        "outside_future_limit",
    );

    app.set_event_type_active(&app.a, app.a.event_type_id, false)
        .await;
    assert_unavailable(
        &check(&app, app.a.event_type_id, tomorrow_ten).await,
        "event_type_inactive",
    );
    // The first reason in enum order wins: inactive before in_past.
    assert_unavailable(
        &check(&app, app.a.event_type_id, past).await,
        "event_type_inactive",
    );
}

async fn check_slot_busy_suggests_next_available(app: TestApp) {
    let ten = at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00");
    app.book(&app.a, app.a.event_type_id, ten).await;
    app.book(&app.a, app.a.event_type_id, ten + mins(30)).await;
    let d = check(&app, app.a.event_type_id, ten).await;
    assert_unavailable(&d, "slot_busy");
    assert_eq!(d["next_available"], wire(ten + hours(1)), "{d}");
    let other = app
        .b
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={}&start={}",
            app.b.event_type_id,
            wire(ten)
        ))
        .await;
    assert_eq!(other.ok(200)["available"], true, "B is not affected");
}

async fn check_rejects_bad_query_params(app: TestApp) {
    let et = app.a.event_type_id;
    app.a
        .api
        .get(&format!("/v1/slots/check?event_type_id={et}"))
        .await
        .bad_param("start");
    app.a
        .api
        .get(&format!("/v1/slots/check?event_type_id={et}&start=soon"))
        .await
        .bad_param("start");
    let start = wire(at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"));
    app.a
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={et}&start={start}&timezone=Nowhere/City"
        ))
        .await
        .bad_param("timezone");
    app.a
        .api
        .get(&format!(
            "/v1/slots/check?event_type_id={}&start={start}",
            Uuid::new_v4()
        ))
        .await
        .err(404, "event_type_not_found");
}

async fn default_timezone_is_the_schedule_zone(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 2);
    let next = days_after(BERLIN, app.now(), 3);
    let r = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={}&start={day}&end={next}",
            app.a.event_type_id
        ))
        .await;
    let d = r.ok(200);
    assert_eq!(d["timezone"], "Europe/Berlin", "{}", r.describe());
    assert_eq!(d["slots"][0]["start"], wire(at(BERLIN, day, "00:00")));
}

async fn booking_limits_per_day_close_the_day(app: TestApp) {
    let et = app.a.event_type_id;
    let r = app
        .a
        .api
        .patch_json(
            &format!("/v1/event-types/{et}"),
            &serde_json::json!({"max_bookings_per_day": 1}),
            Some("\"1\""),
            None,
        )
        .await;
    assert_eq!(r.ok(200)["max_bookings_per_day"], 1);
    let day = days_after(BERLIN, app.now(), 2);
    let from = at(BERLIN, day, "00:00");
    app.book(&app.a, et, at(BERLIN, day, "10:00")).await;
    assert!(
        slots(&app, &window(et, from, from + hours(24)))
            .await
            .is_empty(),
        "the day is full"
    );
    app.try_book(&app.a, et, at(BERLIN, day, "12:00"), "x@example.com")
        .await
        .err(409, "slot_unavailable");
    let next = at(BERLIN, days_after(BERLIN, app.now(), 3), "00:00");
    assert!(
        !slots(&app, &window(et, next, next + hours(24)))
            .await
            .is_empty()
    );
}
