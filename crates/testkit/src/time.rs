//! Time helpers for tests: the wire format, civil times in the fixtures' zone and parsing.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// The fixtures' zone.
pub const BERLIN: &str = "Europe/Berlin";

/// The contract's wire format: RFC 3339 UTC with milliseconds (`2026-05-20T10:00:00.000Z`).
pub fn wire(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses an RFC 3339 instant (panics with the text on failure).
#[track_caller]
pub fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("not an RFC 3339 instant {s:?}: {e}"))
}

/// The instant of a civil date and `HH:MM` in `zone` (compatible disambiguation).
#[track_caller]
pub fn at(zone: &str, date: Date, hhmm: &str) -> Timestamp {
    let (h, m) = hhmm.split_once(':').expect("HH:MM");
    let tz = TimeZone::get(zone).expect("known zone");
    let dt = date.at(h.parse().expect("hour"), m.parse().expect("minute"), 0, 0);
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .expect("valid local time")
}

/// The civil date of `t` in `zone`.
pub fn date_in(zone: &str, t: Timestamp) -> Date {
    TimeZone::get(zone)
        .expect("known zone")
        .to_datetime(t)
        .date()
}

/// The local date `days` after the date of `t` in `zone`.
pub fn days_after(zone: &str, t: Timestamp, days: i64) -> Date {
    date_in(zone, t)
        .checked_add(days.days())
        .expect("date in range")
}

/// The first date strictly after the date of `t` in `zone` that falls on `weekday`.
pub fn next_weekday(zone: &str, t: Timestamp, weekday: Weekday) -> Date {
    let mut d = days_after(zone, t, 1);
    while d.weekday() != weekday {
        d = d.tomorrow().expect("date in range");
    }
    d
}

/// Minutes as a duration.
pub fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// Hours as a duration.
pub fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

/// Days (of 24 hours) as a duration.
pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_has_milliseconds() {
        assert_eq!(wire(ts("2026-05-20T10:00:00Z")), "2026-05-20T10:00:00.000Z");
        assert_eq!(
            wire(ts("2026-05-20T12:00:00.5+02:00")),
            "2026-05-20T10:00:00.500Z"
        );
    }

    #[test]
    fn civil_times_in_berlin() {
        let d = Date::new(2026, 1, 5).unwrap();
        assert_eq!(wire(at(BERLIN, d, "10:00")), "2026-01-05T09:00:00.000Z");
        let summer = Date::new(2026, 7, 6).unwrap();
        assert_eq!(
            wire(at(BERLIN, summer, "10:00")),
            "2026-07-06T08:00:00.000Z"
        );
        assert_eq!(
            next_weekday(BERLIN, ts("2026-01-05T09:00:00Z"), Weekday::Monday),
            Date::new(2026, 1, 12).unwrap()
        );
    }
}
