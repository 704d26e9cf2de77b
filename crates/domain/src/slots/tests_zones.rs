//! Slot lists on DST transition days, across a skipped date, across zones and across midnight:
//! exact UTC instants, table driven.

use super::fixtures::*;
use super::*;

/// Zone, daily hours, duration, interval, window, expected UTC starts.
struct Case {
    name: &'static str,
    zone: &'static str,
    hours: &'static [(&'static str, &'static str)],
    duration: u32,
    interval: u32,
    window: (&'static str, &'static str),
    expected: &'static [&'static str],
}

fn check(c: &Case) {
    let inputs = single(
        event_type(c.duration, c.interval),
        sched(c.zone, c.hours),
        "2000-01-01T00:00:00Z",
    );
    let got = list_slots(&inputs, window(c.window.0, c.window.1));
    assert_eq!(starts(&got), c.expected, "{}", c.name);
    assert!(!got.truncated, "{}", c.name);
    for s in &got.slots {
        assert_eq!(
            s.end,
            s.start + mins(i64::from(c.duration)),
            "{}: end",
            c.name
        );
        assert_eq!(
            (s.host_user_id, s.seats_remaining),
            (None, None),
            "{}",
            c.name
        );
        assert_eq!(check_slot(&inputs, s.start), Ok(*s), "{}: check", c.name);
    }
}

const CASES: &[Case] = &[
    Case {
        // 02:00 CET jumps to 03:00 CEST: 01:00 CET = 00:00Z .. 04:00 CEST = 02:00Z.
        name: "berlin spring forward",
        zone: "Europe/Berlin",
        hours: &[("01:00", "04:00")],
        duration: 30,
        interval: 30,
        window: ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        expected: &[
            "2026-03-29T00:00:00Z",
            "2026-03-29T00:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:30:00Z",
        ],
    },
    Case {
        // Rules inside the gap move forward by its length: 02:15 → 03:15 CEST = 01:15Z.
        name: "berlin spring forward, hours starting in the gap",
        zone: "Europe/Berlin",
        hours: &[("02:15", "04:00")],
        duration: 30,
        interval: 30,
        window: ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        expected: &["2026-03-29T01:15:00Z"],
    },
    Case {
        // 03:00 CEST falls back to 02:00 CET: 01:00 CEST = 23:00Z .. 04:00 CET = 03:00Z, 4 hours.
        name: "berlin fall back",
        zone: "Europe/Berlin",
        hours: &[("01:00", "04:00")],
        duration: 60,
        interval: 60,
        window: ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
        expected: &[
            "2026-10-24T23:00:00Z",
            "2026-10-25T00:00:00Z",
            "2026-10-25T01:00:00Z",
            "2026-10-25T02:00:00Z",
        ],
    },
    Case {
        // 02:00 EST jumps to 03:00 EDT: 01:00 EST = 06:00Z .. 04:00 EDT = 08:00Z.
        name: "new york spring forward",
        zone: "America/New_York",
        hours: &[("01:00", "04:00")],
        duration: 30,
        interval: 30,
        window: ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
        expected: &[
            "2026-03-08T06:00:00Z",
            "2026-03-08T06:30:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:30:00Z",
        ],
    },
    Case {
        // 02:00 EDT falls back to 01:00 EST: 00:00 EDT = 04:00Z .. 03:00 EST = 08:00Z.
        name: "new york fall back",
        zone: "America/New_York",
        hours: &[("00:00", "03:00")],
        duration: 60,
        interval: 60,
        window: ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
        expected: &[
            "2026-11-01T04:00:00Z",
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z",
        ],
    },
    Case {
        // 02:00 +10:30 jumps to 02:30 +11:00: 01:00 = 14:30Z .. 04:00 = 17:00Z, 2.5 hours.
        name: "lord howe half-hour spring forward",
        zone: "Australia/Lord_Howe",
        hours: &[("01:00", "04:00")],
        duration: 30,
        interval: 30,
        window: ("2026-10-03T13:30:00Z", "2026-10-04T13:00:00Z"),
        expected: &[
            "2026-10-03T14:30:00Z",
            "2026-10-03T15:00:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-03T16:00:00Z",
            "2026-10-03T16:30:00Z",
        ],
    },
    Case {
        // 02:00 +11:00 falls back to 01:30 +10:30: 01:00 = 14:00Z .. 04:00 = 17:30Z, 3.5 hours.
        name: "lord howe half-hour fall back",
        zone: "Australia/Lord_Howe",
        hours: &[("01:00", "04:00")],
        duration: 30,
        interval: 30,
        window: ("2026-04-04T13:00:00Z", "2026-04-05T13:30:00Z"),
        expected: &[
            "2026-04-04T14:00:00Z",
            "2026-04-04T14:30:00Z",
            "2026-04-04T15:00:00Z",
            "2026-04-04T15:30:00Z",
            "2026-04-04T16:00:00Z",
            "2026-04-04T16:30:00Z",
            "2026-04-04T17:00:00Z",
        ],
    },
    Case {
        // 2011-12-29 (-10:00) is followed by 2011-12-31 (+14:00); the 30th never happened.
        name: "apia skipped date",
        zone: "Pacific/Apia",
        hours: &[("09:00", "11:00")],
        duration: 60,
        interval: 60,
        window: ("2011-12-29T10:00:00Z", "2011-12-31T10:00:00Z"),
        expected: &[
            "2011-12-29T19:00:00Z",
            "2011-12-29T20:00:00Z",
            "2011-12-30T19:00:00Z",
            "2011-12-30T20:00:00Z",
        ],
    },
    Case {
        // Tokyo hours seen through a Los Angeles day (2026-07-06 PDT = 07:00Z .. 07:00Z):
        // Monday's 09:00 JST (00:00Z) is before it, Tuesday's morning lies inside.
        name: "tokyo schedule, los angeles window",
        zone: "Asia/Tokyo",
        hours: &[("09:00", "12:00")],
        duration: 60,
        interval: 60,
        window: ("2026-07-06T07:00:00Z", "2026-07-07T07:00:00Z"),
        expected: &[
            "2026-07-07T00:00:00Z",
            "2026-07-07T01:00:00Z",
            "2026-07-07T02:00:00Z",
        ],
    },
    Case {
        // 22:00–24:00 and 00:00–02:00 CEST touch at midnight: the 23:30 slot runs into the next
        // date; 01:30 would end at 02:30 and is not offered.
        name: "slot straddling midnight",
        zone: "Europe/Berlin",
        hours: &[("22:00", "24:00"), ("00:00", "02:00")],
        duration: 60,
        interval: 30,
        window: ("2026-06-01T20:00:00Z", "2026-06-02T00:00:00Z"),
        expected: &[
            "2026-06-01T20:00:00Z",
            "2026-06-01T20:30:00Z",
            "2026-06-01T21:00:00Z",
            "2026-06-01T21:30:00Z",
            "2026-06-01T22:00:00Z",
            "2026-06-01T22:30:00Z",
            "2026-06-01T23:00:00Z",
        ],
    },
    Case {
        // The grid is anchored at the interval start, not at the window: 22:10 → 22:30.
        name: "grid anchored at availability, not the window",
        zone: "UTC",
        hours: &[("22:00", "23:30")],
        duration: 30,
        interval: 30,
        window: ("2026-06-01T22:10:00Z", "2026-06-02T00:00:00Z"),
        expected: &["2026-06-01T22:30:00Z", "2026-06-01T23:00:00Z"],
    },
    Case {
        // A 45-minute grid inside 09:00–11:00: 09:00, 09:45 fit; 10:30 + 30 = 11:00 fits too.
        name: "interval differs from duration",
        zone: "UTC",
        hours: &[("09:00", "11:00")],
        duration: 30,
        interval: 45,
        window: ("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"),
        expected: &[
            "2026-06-01T09:00:00Z",
            "2026-06-01T09:45:00Z",
            "2026-06-01T10:30:00Z",
        ],
    },
];

#[test]
fn zone_cases() {
    for c in CASES {
        check(c);
    }
}

#[test]
fn overlapping_rules_merge_before_the_grid_is_laid() {
    // 09:00–10:00 and 09:30–11:00 merge into one interval anchored at 09:00.
    let inputs = single(
        event_type(60, 60),
        sched("UTC", &[("09:30", "11:00"), ("09:00", "10:00")]),
        "2000-01-01T00:00:00Z",
    );
    let got = list_slots(
        &inputs,
        window("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"),
    );
    assert_eq!(starts(&got), on("2026-06-01", &["09:00", "10:00"]));
}

#[test]
fn an_empty_override_removes_a_day_and_a_gap_restarts_the_grid() {
    let s = sched("UTC", &[("09:00", "10:00")]);
    let s = with_override(s, jiff::civil::date(2026, 6, 2), &[]);
    let s = with_override(
        s,
        jiff::civil::date(2026, 6, 3),
        &[("09:00", "09:40"), ("09:50", "11:00")],
    );
    let inputs = single(event_type(30, 30), s, "2000-01-01T00:00:00Z");
    let got = list_slots(
        &inputs,
        window("2026-06-01T00:00:00Z", "2026-06-04T00:00:00Z"),
    );
    let mut expected = on("2026-06-01", &["09:00", "09:30"]);
    expected.extend(on("2026-06-03", &["09:00", "09:50", "10:20"]));
    assert_eq!(starts(&got), expected);
}

#[test]
fn more_than_max_slots_are_truncated() {
    // Every minute of two days: 2,880 starts.
    let inputs = single(
        event_type(1, 1),
        sched("UTC", &[("00:00", "24:00")]),
        "2000-01-01T00:00:00Z",
    );
    let w = window("2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z");
    let got = list_slots(&inputs, w);
    assert_eq!(got.slots.len(), MAX_SLOTS);
    assert!(got.truncated);
    assert_eq!(got.slots[0].start, ts("2026-06-01T00:00:00Z"));
    assert_eq!(got.slots[MAX_SLOTS - 1].start, ts("2026-06-02T09:19:00Z"));
    let narrower = window("2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    assert!(!list_slots(&inputs, narrower).truncated);
}
