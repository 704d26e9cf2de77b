//! Timestamps on the wire: RFC 3339 UTC with milliseconds out, RFC 3339 (with `Z` or an offset)
//! or a plain civil date in.

use domain::availability::{TimeOfDay, Zone};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Formats an instant as `2026-05-20T10:00:00.000Z`: UTC, exactly three fractional digits.
/// Every timestamp the API writes goes through this function.
pub fn ts(t: Timestamp) -> String {
    TimeZone::UTC
        .to_datetime(t)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// [`ts`] of an optional instant.
pub fn opt_ts(t: Option<Timestamp>) -> Option<String> {
    t.map(ts)
}

/// Parses an RFC 3339 date-time with `Z` or a numeric offset.
pub fn parse_instant(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>().map_err(|_| {
        format!("'{s}' is not an ISO 8601 date-time; use e.g. 2026-05-20T10:00:00Z or an offset")
    })
}

/// A query bound that is either an absolute instant or a civil date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrInstant {
    Instant(Timestamp),
    Date(Date),
}

impl DateOrInstant {
    /// Parses an RFC 3339 date-time or a plain `YYYY-MM-DD` date.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 10
            && let Ok(d) = s.parse::<Date>()
        {
            return Ok(Self::Date(d));
        }
        s.parse::<Timestamp>().map(Self::Instant).map_err(|_| {
            format!(
                "'{s}' is neither an ISO 8601 date-time (2026-05-20T10:00:00Z) nor a date (2026-05-20)"
            )
        })
    }

    /// The instant this bound denotes: a date means local midnight in `zone` (`None` when that
    /// local date does not exist or is out of range).
    pub fn at_start_of_day(&self, zone: &Zone) -> Option<Timestamp> {
        match self {
            Self::Instant(t) => Some(*t),
            Self::Date(d) => {
                let mut date = *d;
                // A skipped local date (Pacific/Apia 2011-12-30) starts when the next one does.
                for _ in 0..3 {
                    if zone.date_exists(date) {
                        return zone.instant(date, TimeOfDay::MIDNIGHT);
                    }
                    date = date.tomorrow().ok()?;
                }
                None
            }
        }
    }

    /// The last instant of this bound used inclusively: a date means its last millisecond in
    /// `zone`, an instant itself.
    pub fn at_end_of_day(&self, zone: &Zone) -> Option<Timestamp> {
        match self {
            Self::Instant(t) => Some(*t),
            Self::Date(d) => {
                let next = Self::Date(d.tomorrow().ok()?).at_start_of_day(zone)?;
                next.checked_sub(jiff::SignedDuration::from_millis(1)).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_exactly_three_fraction_digits_in_utc() {
        for (input, want) in [
            ("2026-05-20T10:00:00Z", "2026-05-20T10:00:00.000Z"),
            ("2026-05-20T12:00:00.5+02:00", "2026-05-20T10:00:00.500Z"),
            ("2026-05-20T10:00:00.123456789Z", "2026-05-20T10:00:00.123Z"),
            ("1999-12-31T23:59:59.999Z", "1999-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(ts(input.parse().unwrap()), want, "{input}");
        }
    }

    #[test]
    fn instants_need_an_offset() {
        assert!(parse_instant("2026-05-20T10:00:00Z").is_ok());
        assert!(parse_instant("2026-05-20T10:00:00-05:00").is_ok());
        assert!(parse_instant("2026-05-20T10:00:00").is_err());
        assert!(parse_instant("tomorrow").is_err());
    }

    #[test]
    fn date_or_instant() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let d = DateOrInstant::parse("2026-07-01").unwrap();
        assert_eq!(
            ts(d.at_start_of_day(&berlin).unwrap()),
            "2026-06-30T22:00:00.000Z"
        );
        assert_eq!(
            ts(d.at_end_of_day(&berlin).unwrap()),
            "2026-07-01T21:59:59.999Z"
        );
        let i = DateOrInstant::parse("2026-07-01T08:00:00+02:00").unwrap();
        assert_eq!(
            ts(i.at_start_of_day(&berlin).unwrap()),
            "2026-07-01T06:00:00.000Z"
        );
        for bad in ["2026-13-01", "2026-07-01T08:00", "20260701", "", "2026-7-1"] {
            assert!(DateOrInstant::parse(bad).is_err(), "{bad}");
        }
        let apia = Zone::parse("Pacific/Apia").unwrap();
        let skipped = DateOrInstant::parse("2011-12-30").unwrap();
        assert!(skipped.at_start_of_day(&apia).is_some());
    }
}
