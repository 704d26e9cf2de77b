//! A schedule's free intervals per local date (what `Schedule::expand` computes), straight into
//! millisecond anchors, with a time-zone lookup only near an offset transition.
//!
//! Between two transitions a zone's offset is one constant, so a local date-time `L` denotes
//! exactly `L - offset` — provided that instant lies at least [`GUARD`] inside the constant
//! stretch: any other instant with the same local reading would need an offset differing by
//! more than the guard, and no zone's offsets differ by 53 hours (jiff bounds them to
//! ±25:59:59). Within the guard of a transition (and for skipped dates) the exact
//! `Zone::instant` / `Zone::date_exists` with "compatible" disambiguation decides, as before.
//! The result is identical to `Schedule::expand` (`tests_reference` compares with it).

use super::host::floor_ms;
use crate::availability::{LocalRange, Schedule, TimeOfDay};
use jiff::Timestamp;
use jiff::civil::Date;

/// Distance from a transition beyond which the offset arithmetic is exact.
const GUARD: i64 = 53 * 3_600_000;

/// A stretch `[from, until)` of instants (ms) over which the zone's offset is `offset` (ms).
#[derive(Debug, Clone, Copy)]
struct Stretch {
    from: i64,
    until: i64,
    offset: i64,
}

/// The constant-offset stretch starting at `t`.
fn stretch(schedule: &Schedule, t: Timestamp) -> Stretch {
    let tz = schedule.zone.tz();
    let offset = i64::from(tz.to_offset(t).seconds()) * 1000;
    let from = floor_ms(t);
    let until = tz
        .following(t)
        .map(|tr| floor_ms(tr.timestamp()))
        .find(|&u| u > from)
        .unwrap_or(i64::MAX);
    Stretch {
        from,
        until,
        offset,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn epoch_day(d: Date) -> i64 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `(start, end, 0)` in ms for every merged free interval of every local date in
/// `[first, last]`, date by date (`day` is scratch space).
pub(super) fn expand_into(
    schedule: &Schedule,
    first: Date,
    last: Date,
    anchors: &mut Vec<(i64, i64, i64)>,
    day: &mut Vec<(i64, i64)>,
) {
    let zone = &schedule.zone;
    let mut cur: Option<Stretch> = None;
    let mut date = first;
    while date <= last {
        let local_midnight = epoch_day(date) * 86_400_000;
        // The stretch covering this date's local midnight, refreshed when we leave it.
        let fast = |s: &Stretch, local: i64| {
            let t = local - s.offset;
            (t >= s.from.saturating_add(GUARD) && t < s.until.saturating_sub(GUARD)).then_some(t)
        };
        if cur.is_none_or(|s| local_midnight - s.offset >= s.until.saturating_sub(GUARD)) {
            cur = zone
                .instant(date, TimeOfDay::MIDNIGHT)
                .and_then(|t| t.checked_sub(jiff::SignedDuration::from_hours(54)).ok())
                .map(|t| stretch(schedule, t));
        }
        let exists = match cur.as_ref().and_then(|s| fast(s, local_midnight)) {
            Some(_) => true,
            None => zone.date_exists(date),
        };
        if exists {
            day.clear();
            let mut add = |r: LocalRange| {
                let at = |time: TimeOfDay| {
                    let local = local_midnight + i64::from(time.minutes()) * 60_000;
                    cur.as_ref()
                        .and_then(|s| fast(s, local))
                        .or_else(|| zone.instant(date, time).map(floor_ms))
                };
                if let (Some(s), Some(e)) = (at(r.start), at(r.end))
                    && s < e
                {
                    day.push((s, e));
                }
            };
            match schedule.overrides.iter().find(|o| o.date == date) {
                Some(o) => o.intervals.iter().copied().for_each(&mut add),
                None => {
                    let wd = date.weekday();
                    schedule
                        .rules
                        .iter()
                        .filter(|r| r.days.contains(&wd))
                        .for_each(|r| add(r.range));
                }
            }
            if day.len() > 1 {
                day.sort_unstable();
            }
            let mut merged: Option<(i64, i64)> = None;
            for &(s, e) in day.iter() {
                match merged.as_mut() {
                    Some(m) if s <= m.1 => m.1 = m.1.max(e),
                    _ => {
                        if let Some((a, b)) = merged {
                            anchors.push((a, b, 0));
                        }
                        merged = Some((s, e));
                    }
                }
            }
            if let Some((a, b)) = merged {
                anchors.push((a, b, 0));
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
}
