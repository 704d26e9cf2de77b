//! Timestamps on the wire: RFC 3339 UTC with milliseconds out, RFC 3339 (with `Z` or an offset)
//! or a plain civil date in.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Formats an instant as `2026-05-20T10:00:00.000Z`: UTC, exactly three fractional digits
/// (truncated, never rounded). Every timestamp the API writes goes through this function or
/// [`WireTime`], which writes the same bytes without a heap allocation.
pub fn ts(t: Timestamp) -> String {
    formatted(t, str::to_owned)
}

/// Calls `f` with the text of [`ts`]: from a stack buffer, or [`strftime_ts`] for years
/// outside 0000–9999.
fn formatted<R>(t: Timestamp, f: impl FnOnce(&str) -> R) -> R {
    match ts_bytes(t) {
        Some(b) => f(ascii(&b)),
        None => f(&strftime_ts(t)),
    }
}

/// An instant serialized as [`ts`] writes it, formatted on the stack: slot lists write thousands
/// per response, and a `String` per instant was a third of `GET /v1/slots`' time (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireTime(pub Timestamp);

impl WireTime {
    /// Appends the JSON string (quotes included) [`serde::Serialize`] writes.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        InstantWriter::default().write_json(self.0, out);
    }
}

impl serde::Serialize for WireTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        formatted(self.0, |text| s.serialize_str(text))
    }
}

/// Writes many instants as JSON strings (the bytes of [`WireTime::write_json`]), remembering
/// the last instant's date: a slot list's instants mostly share days, so the calendar
/// arithmetic runs about once per day instead of twice per slot.
#[derive(Debug, Default)]
pub struct InstantWriter {
    /// The day count since 1970-01-01 and its `YYYY-MM-DD` of the last instant written.
    last: Option<(i64, [u8; 10])>,
}

impl InstantWriter {
    pub fn write_json(&mut self, t: Timestamp, out: &mut Vec<u8>) {
        match self.bytes(t) {
            Some(b) => {
                let mut quoted = [b'"'; 26];
                quoted[1..25].copy_from_slice(&b);
                out.extend_from_slice(&quoted);
            }
            None => {
                // Years outside 0000–9999: the reference formatting, rare enough.
                out.push(b'"');
                out.extend_from_slice(strftime_ts(t).as_bytes());
                out.push(b'"');
            }
        }
    }

    /// The 24 bytes of [`ts`] (unquoted), or `None` for years outside 0000–9999.
    pub fn bytes(&mut self, t: Timestamp) -> Option<[u8; 24]> {
        let (days, sod, ms) = split(t);
        let date = match self.last {
            Some((d, date)) if d == days => date,
            _ => {
                let date = date_bytes(days)?;
                self.last = Some((days, date));
                date
            }
        };
        let mut b = [0u8; 24];
        b[..10].copy_from_slice(&date);
        b[10..].copy_from_slice(&time_bytes(sod, ms));
        Some(b)
    }
}

/// The 24 bytes of [`ts`], or `None` for years outside 0000–9999 (only reachable near jiff's
/// range limits; [`strftime_ts`] writes those).
///
/// Hand-written: the civil date comes from the day count (H. Hinnant's `civil_from_days`), and
/// the output is byte-for-byte what `strftime("%Y-%m-%dT%H:%M:%S%.3fZ")` of the UTC datetime
/// writes (the tests compare both).
fn ts_bytes(t: Timestamp) -> Option<[u8; 24]> {
    let (days, sod, ms) = split(t);
    let mut b = [0u8; 24];
    b[..10].copy_from_slice(&date_bytes(days)?);
    b[10..].copy_from_slice(&time_bytes(sod, ms));
    Some(b)
}

/// `(days since 1970-01-01, second of the day, millisecond)` of `t`, floored.
fn split(t: Timestamp) -> (i64, u32, u32) {
    let mut secs = t.as_second();
    let mut nanos = t.subsec_nanosecond();
    if nanos < 0 {
        // Before the epoch both parts are negative; floor to whole seconds.
        secs -= 1;
        nanos += 1_000_000_000;
    }
    // rem_euclid of 86,400 and a millisecond count both fit u32.
    let sod = secs.rem_euclid(86_400) as u32;
    (
        secs.div_euclid(86_400),
        sod,
        nanos.unsigned_abs() / 1_000_000,
    )
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01, or `None` outside years 0000–9999.
fn date_bytes(days: i64) -> Option<[u8; 10]> {
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    // In range: year 0–9999, month and day fit u32.
    let (year, month, day) = (year as u32, month as u32, day as u32);
    let mut b = *b"0000-00-00";
    put2(&mut b[0..2], year / 100);
    put2(&mut b[2..4], year % 100);
    put2(&mut b[5..7], month);
    put2(&mut b[8..10], day);
    Some(b)
}

/// `THH:MM:SS.mmmZ` of a second of the day and a millisecond.
fn time_bytes(sod: u32, ms: u32) -> [u8; 14] {
    let mut b = *b"T00:00:00.000Z";
    put2(&mut b[1..3], sod / 3600);
    put2(&mut b[4..6], sod / 60 % 60);
    put2(&mut b[7..9], sod % 60);
    b[10] = b'0' + (ms / 100) as u8;
    put2(&mut b[11..13], ms % 100);
    b
}

/// The formatted bytes as text (always ASCII digits and separators).
fn ascii(b: &[u8; 24]) -> &str {
    std::str::from_utf8(b).unwrap_or("0000-00-00T00:00:00.000Z")
}

/// The reference formatting [`ts`] reproduces.
fn strftime_ts(t: Timestamp) -> String {
    TimeZone::UTC
        .to_datetime(t)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `00`…`99`: two digits per table read.
const DIGITS2: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `n` (< 100) as two digits.
fn put2(out: &mut [u8], n: u32) {
    let i = (n as usize % 100) * 2;
    out[0] = DIGITS2[i];
    out[1] = DIGITS2[i + 1];
}

/// `(year, month, day)` of the proleptic Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// [`ts`] of an optional instant.
pub fn opt_ts(t: Option<Timestamp>) -> Option<String> {
    t.map(ts)
}

/// Parses an RFC 3339 date-time with `Z` or a numeric offset.
/// Instants outside the years 0001–9999 are refused
/// ([`domain::validate::check_instant_range`]).
pub fn parse_instant(s: &str) -> Result<Timestamp, String> {
    let t = s.parse::<Timestamp>().map_err(|_| {
        format!("'{s}' is not an ISO 8601 date-time; use e.g. 2026-05-20T10:00:00Z or an offset")
    })?;
    domain::validate::check_instant_range(t).map_err(|m| format!("'{s}' {m}"))
}

pub use domain::availability::DateOrInstant;

#[cfg(test)]
mod tests {
    use super::*;
    use domain::availability::Zone;

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
    fn matches_strftime_on_edges_and_many_random_instants() {
        let mut edges = vec![
            Timestamp::MIN,
            Timestamp::MAX,
            Timestamp::UNIX_EPOCH,
            Timestamp::new(-1, 0).unwrap(),
            Timestamp::new(0, -1).unwrap(),
            Timestamp::new(0, 999_999_999).unwrap(),
            Timestamp::new(-1, -999_999).unwrap(),
            Timestamp::new(-1, -1_000_000).unwrap(),
        ];
        for s in [
            "0000-01-01T00:00:00Z",
            "-000001-12-31T23:59:59.999999999Z",
            "0000-02-29T12:00:00Z",
            "1600-02-29T23:59:59.9999Z",
            "1900-02-28T23:59:59.999Z",
            "1900-03-01T00:00:00Z",
            "1969-12-31T23:59:59.999Z",
            "2000-02-29T00:00:00.001Z",
            "2100-03-01T00:00:00Z",
            "9999-12-30T21:59:59.999999999Z",
        ] {
            edges.push(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")));
        }
        // One writer across all instants: its remembered date must never leak into the next.
        let mut writer = InstantWriter::default();
        let mut written = Vec::new();
        let mut check_writer = |t: Timestamp| {
            written.clear();
            writer.write_json(t, &mut written);
            assert_eq!(
                String::from_utf8_lossy(&written),
                format!("\"{}\"", strftime_ts(t)),
                "{t:?}"
            );
        };
        // Consecutive instants across day, month, year and era boundaries, and back.
        let base: Timestamp = "1999-12-31T23:00:00Z".parse().unwrap();
        for m in (-3000..3000).step_by(7) {
            check_writer(base + jiff::SignedDuration::from_mins(m));
        }
        for t in edges.iter().copied().chain(edges.iter().rev().copied()) {
            check_writer(t);
        }
        for t in edges {
            assert_eq!(ts(t), strftime_ts(t), "{t:?}");
            assert_eq!(
                serde_json::to_string(&WireTime(t)).unwrap(),
                format!("\"{}\"", strftime_ts(t)),
                "{t:?}"
            );
        }
        // splitmix64 over the whole jiff range, nanosecond resolution.
        let (lo, hi) = (
            Timestamp::MIN.as_nanosecond(),
            Timestamp::MAX.as_nanosecond(),
        );
        let span = u128::try_from(hi - lo).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for i in 0..200_000 {
            let r = (u128::from(next()) << 64) | u128::from(next());
            // Every other instant near today (1900–2100), where the API lives.
            let t = if i % 2 == 0 {
                Timestamp::from_nanosecond(lo + i128::try_from(r % span).unwrap()).unwrap()
            } else {
                let near = (r % (200 * 365 * 86_400 * 1_000_000_000_u128)) as i128;
                Timestamp::from_nanosecond(near - 70 * 365 * 86_400 * 1_000_000_000_i128).unwrap()
            };
            assert_eq!(ts(t), strftime_ts(t), "{t:?}");
            assert_eq!(
                serde_json::to_string(&WireTime(t)).unwrap(),
                format!("\"{}\"", strftime_ts(t)),
                "{t:?}"
            );
            check_writer(t);
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
