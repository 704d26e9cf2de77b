//! Busy time and buffers, group seats, round robin, notice, horizon and booking limits, and
//! `check_slot` / `next_available` against `list_slots`.

use super::fixtures::*;
use super::*;
use crate::event_type::{BookingLimits, SchedulingType};

const NOW: &str = "2026-05-01T00:00:00Z";

/// Hourly slots 09:00–17:00 UTC every day, 60-minute duration.
fn hourly(configure: impl FnOnce(&mut EventType)) -> SlotInputs {
    let mut et = event_type(60, 60);
    configure(&mut et);
    single(et, sched("UTC", &[("09:00", "17:00")]), NOW)
}

fn day(inputs: &SlotInputs, date: &str) -> Vec<String> {
    let start = ts(&format!("{date}T00:00:00Z"));
    let w = Interval::new(start, start + SignedDuration::from_hours(24)).unwrap();
    starts(&list_slots(inputs, w))
}

const ALL_HOURS: [&str; 8] = [
    "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
];

/// Buffers of the event type, busy blocks of the host, expected starts on 2026-06-02.
struct BufferCase {
    name: &'static str,
    before: u32,
    after: u32,
    busy: Vec<BusyBlock>,
    expected: &'static [&'static str],
}

#[test]
fn buffers_and_busy_blocks() {
    let cases = [
        BufferCase {
            name: "late booking the day before, buffer_after into the next morning",
            before: 0,
            after: 0,
            // 22:00–23:00 with 10h30 after-buffer: blocked until 09:30.
            busy: vec![block(OTHER_ET, "2026-06-01T22:00:00Z", 60, 0, 630)],
            expected: &[
                "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
            ],
        },
        BufferCase {
            name: "touching a block is fine",
            before: 0,
            after: 0,
            busy: vec![block(OTHER_ET, "2026-06-01T22:00:00Z", 60, 0, 600)],
            expected: &ALL_HOURS,
        },
        BufferCase {
            name: "own buffer_before reaches a block ending before the slot",
            before: 60,
            after: 0,
            busy: vec![block(OTHER_ET, "2026-06-02T09:00:00Z", 60, 0, 0)],
            // 10:00 blocks [09:00, 11:00); 11:00 blocks [10:00, 12:00), touching.
            expected: &["11:00", "12:00", "13:00", "14:00", "15:00", "16:00"],
        },
        BufferCase {
            name: "own buffer_after reaches a block outside the schedule",
            before: 0,
            after: 60,
            busy: vec![block(OTHER_ET, "2026-06-02T17:30:00Z", 30, 0, 0)],
            expected: &[
                "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00",
            ],
        },
        BufferCase {
            name: "the booking's own buffers are part of its block",
            before: 0,
            after: 0,
            busy: vec![block(OTHER_ET, "2026-06-02T12:00:00Z", 60, 30, 30)],
            expected: &["09:00", "10:00", "14:00", "15:00", "16:00"],
        },
        BufferCase {
            name: "buffers need no free time at the day's edges",
            before: 120,
            after: 120,
            busy: vec![],
            expected: &ALL_HOURS,
        },
    ];
    for c in cases {
        let mut inputs = hourly(|et| {
            et.buffer_before_minutes = c.before;
            et.buffer_after_minutes = c.after;
        });
        inputs.hosts[0].busy = c.busy;
        assert_eq!(
            day(&inputs, "2026-06-02"),
            on("2026-06-02", c.expected),
            "{}",
            c.name
        );
    }
}

#[test]
fn own_buffer_after_past_midnight_hits_the_next_days_booking() {
    let mut inputs = hourly(|et| et.buffer_after_minutes = 8 * 60);
    inputs.hosts[0].busy = vec![block(OTHER_ET, "2026-06-03T00:30:00Z", 60, 0, 0)];
    // 16:00 blocks until 01:00 next day; 15:00 until 00:00 (touching).
    assert_eq!(
        day(&inputs, "2026-06-02"),
        on("2026-06-02", &ALL_HOURS[..7])
    );
}

#[test]
fn individual_booking_of_the_same_event_type_blocks_its_start() {
    let mut inputs = hourly(|_| {});
    inputs.hosts[0].busy = vec![block(ET, "2026-06-02T10:00:00Z", 60, 0, 0)];
    assert!(!day(&inputs, "2026-06-02").contains(&"2026-06-02T10:00:00Z".to_string()));
    assert_eq!(day(&inputs, "2026-06-02").len(), 7);
}

#[test]
fn group_seats_fill_up_then_the_slot_disappears() {
    let mut inputs = hourly(|et| {
        et.scheduling_type = SchedulingType::Group;
        et.seats = 3;
    });
    let at = ts("2026-06-02T10:00:00Z");
    let seats_at = |inputs: &SlotInputs| -> Option<Option<u32>> {
        let w = window("2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z");
        list_slots(inputs, w)
            .slots
            .iter()
            .find(|s| s.start == at)
            .map(|s| s.seats_remaining)
    };
    for expected in [Some(Some(3)), Some(Some(2)), Some(Some(1)), None] {
        assert_eq!(seats_at(&inputs), expected);
        assert_eq!(
            check_slot(&inputs, at).ok().map(|s| s.seats_remaining),
            expected
        );
        inputs.hosts[0]
            .busy
            .push(block(ET, "2026-06-02T10:00:00Z", 60, 0, 0));
    }
    // The other hours still have all their seats.
    let w = window("2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z");
    let list = list_slots(&inputs, w);
    assert_eq!(list.slots.len(), 7);
    assert!(list.slots.iter().all(|s| s.seats_remaining == Some(3)));
}

#[test]
fn group_slot_is_blocked_by_another_event_type_or_an_overlapping_own_start() {
    let group = |busy: Vec<BusyBlock>| {
        let mut et = event_type(60, 30);
        et.scheduling_type = SchedulingType::Group;
        et.seats = 3;
        let mut inputs = single(et, sched("UTC", &[("09:00", "12:00")]), NOW);
        inputs.hosts[0].busy = busy;
        day(&inputs, "2026-06-02")
    };
    let all = on("2026-06-02", &["09:00", "09:30", "10:00", "10:30", "11:00"]);
    assert_eq!(group(vec![]), all);
    // A seat at 10:00 blocks the overlapping 09:30 and 10:30, not 10:00 itself.
    assert_eq!(
        group(vec![block(ET, "2026-06-02T10:00:00Z", 60, 0, 0)]),
        on("2026-06-02", &["09:00", "10:00", "11:00"])
    );
    // Another event type's booking at the same start is a conflict, not a seat.
    assert_eq!(
        group(vec![block(OTHER_ET, "2026-06-02T10:00:00Z", 60, 0, 0)]),
        on("2026-06-02", &["09:00", "11:00"])
    );
}

#[test]
fn round_robin_with_interleaved_free_time() {
    // Host 0 works 09:00–10:00 UTC (busy until 09:30), host 1 11:30–13:00 Berlin = 09:30–11:00Z.
    let mut inputs = round_robin(
        event_type(30, 30),
        vec![
            sched("UTC", &[("09:00", "10:00")]),
            sched("Europe/Berlin", &[("11:30", "13:00")]),
        ],
        NOW,
    );
    inputs.hosts[0].busy = vec![block(OTHER_ET, "2026-06-02T09:00:00Z", 30, 0, 0)];
    let w = window("2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z");
    let got: Vec<(String, Option<UserId>)> = list_slots(&inputs, w)
        .slots
        .iter()
        .map(|s| (s.start.to_string(), s.host_user_id))
        .collect();
    let expect = |t: &str, h: u128| (format!("2026-06-02T{t}:00Z"), Some(user(h)));
    // 09:30 is free for both: tie on bookings, host 0 comes first.
    assert_eq!(
        got,
        vec![expect("09:30", 0), expect("10:00", 1), expect("10:30", 1)]
    );
}

#[test]
fn round_robin_assigns_the_host_with_fewest_bookings_this_month() {
    let three = || {
        round_robin(
            event_type(60, 60),
            vec![
                sched("UTC", &[("09:00", "10:00")]),
                sched("UTC", &[("09:00", "10:00")]),
                sched("UTC", &[("09:00", "10:00")]),
            ],
            NOW,
        )
    };
    let at = ts("2026-06-15T09:00:00Z");
    let host_for = |counted: Vec<CountedBooking>| {
        let mut inputs = three();
        inputs.counted = counted;
        let listed = list_slots(&inputs, Interval::new(at, at + mins(60)).unwrap());
        let checked = check_slot(&inputs, at).unwrap();
        assert_eq!(listed.slots, vec![checked]);
        checked.host_user_id
    };
    let june = |h: u128| counted("2026-06-03T09:00:00Z", user(h));
    let may = |h: u128| counted("2026-05-31T09:00:00Z", user(h));
    let cases = [
        ("no bookings: first host", vec![], 0),
        ("host 0 has one", vec![june(0)], 1),
        (
            "2, 1, 1: tie between 1 and 2",
            vec![june(0), june(0), june(1), june(2)],
            1,
        ),
        (
            "2, 2, 1",
            vec![june(0), june(1), june(0), june(1), june(2)],
            2,
        ),
        (
            "other months do not count",
            vec![may(1), may(2), june(0)],
            1,
        ),
        (
            "bookings of unknown users are ignored",
            vec![counted("2026-06-03T09:00:00Z", user(9))],
            0,
        ),
    ];
    for (name, counted, expected) in cases {
        assert_eq!(host_for(counted), Some(user(expected)), "{name}");
    }
}

#[test]
fn round_robin_skips_busy_hosts_even_if_they_have_fewer_bookings() {
    let mut inputs = round_robin(
        event_type(60, 60),
        vec![
            sched("UTC", &[("09:00", "10:00")]),
            sched("UTC", &[("09:00", "10:00")]),
        ],
        NOW,
    );
    inputs.counted = vec![counted("2026-06-01T09:00:00Z", user(1))];
    inputs.hosts[0].busy = vec![block(OTHER_ET, "2026-06-02T09:00:00Z", 60, 0, 0)];
    let slot = check_slot(&inputs, ts("2026-06-02T09:00:00Z")).unwrap();
    assert_eq!(slot.host_user_id, Some(user(1)));
    inputs.hosts[1].busy = vec![block(OTHER_ET, "2026-06-02T09:00:00Z", 60, 0, 0)];
    assert_eq!(
        check_slot(&inputs, ts("2026-06-02T09:00:00Z")),
        Err(UnavailableReason::SlotBusy)
    );
}

#[test]
fn notice_past_and_inactive() {
    let mut inputs = hourly(|et| et.minimum_notice_hours = 2);
    inputs.now = ts("2026-06-02T08:30:00Z");
    // now + 2h = 10:30: 11:00 is the first.
    assert_eq!(
        day(&inputs, "2026-06-02"),
        on("2026-06-02", &ALL_HOURS[2..])
    );
    inputs.event_type.minimum_notice_hours = 0;
    inputs.now = ts("2026-06-02T12:00:00Z");
    // A start equal to now is not in the past.
    assert_eq!(
        day(&inputs, "2026-06-02"),
        on("2026-06-02", &ALL_HOURS[3..])
    );
    inputs.event_type.active = false;
    assert!(day(&inputs, "2026-06-02").is_empty());
}

#[test]
fn future_limit_ends_at_local_midnight_in_the_schedule_zone() {
    // Every hour of the day in Berlin; future_limit_days = 1.
    let mut et = event_type(60, 60);
    et.future_limit_days = 1;
    let mut inputs = single(et, sched("Europe/Berlin", &[("00:00", "24:00")]), NOW);
    let w = window("2026-06-01T00:00:00Z", "2026-06-05T00:00:00Z");
    let last = |inputs: &SlotInputs| list_slots(inputs, w).slots.last().map(|s| s.start);
    // 21:30Z = 23:30 CEST on 06-01: bookable through 06-02 local, i.e. before 06-02T22:00Z.
    inputs.now = ts("2026-06-01T21:30:00Z");
    assert_eq!(last(&inputs), Some(ts("2026-06-02T21:00:00Z")));
    // 22:30Z is already 06-02 in Berlin: one more local day.
    inputs.now = ts("2026-06-01T22:30:00Z");
    assert_eq!(last(&inputs), Some(ts("2026-06-03T21:00:00Z")));
    assert_eq!(
        check_slot(&inputs, ts("2026-06-03T22:00:00Z")),
        Err(UnavailableReason::OutsideFutureLimit)
    );
    assert!(check_slot(&inputs, ts("2026-06-03T21:00:00Z")).is_ok());
    inputs.event_type.future_limit_days = 0;
    assert_eq!(last(&inputs), Some(ts("2026-06-04T23:00:00Z")));
}

/// Limit configuration, counted bookings, expected starts over 2026-06-06 .. 2026-06-09 (local
/// Berlin dates; slots at 10:00 local = 08:00Z each day).
#[test]
fn booking_limits_per_day_week_and_month() {
    let limited = |limits: BookingLimits, counted_at: &[&str]| {
        let mut et = event_type(60, 60);
        et.limits = limits;
        let mut inputs = single(et, sched("Europe/Berlin", &[("10:00", "11:00")]), NOW);
        inputs.counted = counted_at.iter().map(|t| counted(t, user(0))).collect();
        let w = window("2026-06-05T22:00:00Z", "2026-06-09T22:00:00Z");
        let got: Vec<String> = list_slots(&inputs, w)
            .slots
            .iter()
            .map(|s| s.start.to_string()[5..10].to_string())
            .collect();
        got
    };
    let day = |n| BookingLimits {
        per_day: Some(n),
        ..BookingLimits::default()
    };
    let week = |n| BookingLimits {
        per_week: Some(n),
        ..BookingLimits::default()
    };
    let month = |n| BookingLimits {
        per_month: Some(n),
        ..BookingLimits::default()
    };
    let all = ["06-06", "06-07", "06-08", "06-09"];
    // 2026-06-07 22:30Z is 06-08 00:30 in Berlin; 21:30Z is still Sunday 06-07.
    let cases: Vec<(&str, BookingLimits, Vec<&str>, Vec<&str>)> = vec![
        ("no bookings", day(1), vec![], all.to_vec()),
        (
            "one per day, Berlin day",
            day(1),
            vec!["2026-06-07T22:30:00Z"],
            vec!["06-06", "06-07", "06-09"],
        ),
        (
            "two per day, one taken",
            day(2),
            vec!["2026-06-08T05:00:00Z"],
            all.to_vec(),
        ),
        (
            "one per week, Sunday",
            week(1),
            vec!["2026-06-07T21:30:00Z"],
            vec!["06-08", "06-09"],
        ),
        (
            "one per week, Monday",
            week(1),
            vec!["2026-06-07T22:30:00Z"],
            vec!["06-06", "06-07"],
        ),
        (
            "two per week",
            week(2),
            vec!["2026-06-01T09:00:00Z", "2026-06-03T09:00:00Z"],
            vec!["06-08", "06-09"],
        ),
        (
            "one per month",
            month(1),
            vec!["2026-06-30T21:30:00Z"],
            vec![],
        ),
        (
            "one per month, July",
            month(1),
            vec!["2026-06-30T22:30:00Z"],
            all.to_vec(),
        ),
    ];
    for (name, limits, bookings, expected) in cases {
        assert_eq!(limited(limits, &bookings), expected, "{name}");
    }
}

#[test]
fn check_slot_reports_the_first_reason_in_enum_order() {
    let base = || {
        let mut et = event_type(60, 60);
        et.minimum_notice_hours = 24;
        et.future_limit_days = 10;
        let mut inputs = single(
            et,
            sched("UTC", &[("09:00", "17:00")]),
            "2026-06-10T12:00:00Z",
        );
        inputs.hosts[0].busy = vec![block(OTHER_ET, "2026-06-12T10:00:00Z", 60, 0, 0)];
        inputs
    };
    use UnavailableReason::*;
    let cases: Vec<(&str, bool, &str, Result<&str, UnavailableReason>)> = vec![
        (
            "inactive beats past",
            false,
            "2026-06-01T09:00:00Z",
            Err(EventTypeInactive),
        ),
        (
            "past beats notice",
            true,
            "2026-06-10T11:00:00Z",
            Err(InPast),
        ),
        (
            "now itself is inside notice",
            true,
            "2026-06-10T12:00:00Z",
            Err(OutsideMinimumNotice),
        ),
        (
            "notice",
            true,
            "2026-06-11T11:00:00Z",
            Err(OutsideMinimumNotice),
        ),
        (
            "horizon beats busy",
            true,
            "2026-06-21T10:00:00Z",
            Err(OutsideFutureLimit),
        ),
        (
            "last bookable day",
            true,
            "2026-06-20T16:00:00Z",
            Ok("2026-06-20T16:00:00Z"),
        ),
        ("busy", true, "2026-06-12T10:00:00Z", Err(SlotBusy)),
        ("off the grid", true, "2026-06-12T11:30:00Z", Err(SlotBusy)),
        (
            "outside availability",
            true,
            "2026-06-12T17:00:00Z",
            Err(SlotBusy),
        ),
        (
            "sub-millisecond off the grid",
            true,
            "2026-06-12T11:00:00.0005Z",
            Err(SlotBusy),
        ),
        (
            "free",
            true,
            "2026-06-12T11:00:00Z",
            Ok("2026-06-12T11:00:00Z"),
        ),
    ];
    for (name, active, at, expected) in cases {
        let mut inputs = base();
        inputs.event_type.active = active;
        let got = check_slot(&inputs, ts(at)).map(|s| s.start);
        assert_eq!(got, expected.map(ts), "{name}");
    }
}

#[test]
fn check_slot_agrees_with_list_slots_at_every_minute() {
    let mut et = event_type(45, 20);
    et.buffer_before_minutes = 10;
    et.buffer_after_minutes = 5;
    et.minimum_notice_hours = 1;
    let mut inputs = single(
        et,
        sched("America/New_York", &[("08:00", "12:00")]),
        "2026-06-02T12:30:00Z",
    );
    inputs.hosts[0].busy = vec![
        block(OTHER_ET, "2026-06-02T14:00:00Z", 30, 0, 0),
        block(OTHER_ET, "2026-06-03T13:10:00Z", 15, 0, 0),
    ];
    let w = window("2026-06-02T04:00:00Z", "2026-06-04T04:00:00Z");
    let listed = list_slots(&inputs, w).slots;
    // 06-02: 14:40, 15:00 (notice until 13:30, busy 14:00–14:30 ± buffers); 06-03: seven.
    assert_eq!(listed.len(), 9);
    let mut t = w.start();
    while t < w.end() {
        let expected = listed.iter().find(|s| s.start == t).copied();
        assert_eq!(check_slot(&inputs, t).ok(), expected, "at {t}");
        t += mins(1);
    }
}

#[test]
fn next_available_is_the_first_listed_start_after() {
    let mut inputs = hourly(|_| {});
    inputs.hosts[0].busy = vec![block(OTHER_ET, "2026-06-02T10:00:00Z", 120, 0, 0)];
    let next =
        |inputs: &SlotInputs, after: &str| next_available(inputs, ts(after)).map(|t| t.to_string());
    assert_eq!(
        next(&inputs, "2026-06-02T09:00:00Z").as_deref(),
        Some("2026-06-02T12:00:00Z")
    );
    assert_eq!(
        next(&inputs, "2026-06-02T16:00:00Z").as_deref(),
        Some("2026-06-03T09:00:00Z")
    );
    assert_eq!(
        next(&inputs, "2026-06-02T08:59:59Z").as_deref(),
        Some("2026-06-02T09:00:00Z")
    );
    // Only one date has hours: 2026-07-03, 31 days after the query; the window excludes its end.
    let only = |hours: &[(&str, &str)]| {
        let mut s = with_override(sched("UTC", &[]), jiff::civil::date(2026, 7, 3), hours);
        s.rules.clear();
        s
    };
    inputs.hosts[0].schedule = only(&[("08:00", "10:00")]);
    assert_eq!(
        next(&inputs, "2026-06-02T09:00:00Z").as_deref(),
        Some("2026-07-03T08:00:00Z")
    );
    inputs.hosts[0].schedule = only(&[("09:00", "10:00")]);
    assert_eq!(next(&inputs, "2026-06-02T09:00:00Z"), None);
    let w = next_available_window(ts("2026-06-02T09:00:00Z")).unwrap();
    assert_eq!(w.end(), ts("2026-07-03T09:00:00Z"));
}
