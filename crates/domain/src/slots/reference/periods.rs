//! Local calendar periods for booking limits (§6.4.5) and round-robin fairness (§6.4.6).
//!
//! The boundaries of the local days, ISO weeks (Monday first) and calendar months around a
//! window are computed once, in one zone, as millisecond instants; a booking or a candidate is
//! then placed by a binary search over a few dozen integers. No time-zone conversion ever
//! happens per candidate or per booking.

use super::super::{CountedBooking, HostInput};
use super::host::{ceil_ms, floor_ms};
use crate::availability::{TimeOfDay, Zone};
use crate::event_type::BookingLimits;
use crate::ids::UserId;
use jiff::civil::Date;

/// Period boundaries and the counts of the event type's bookings in each period.
#[derive(Debug, Default)]
pub(super) struct Periods {
    days: Bounds,
    weeks: Bounds,
    months: Bounds,
    /// Round robin: `months.counts` split per host, `month * hosts + host`.
    host_months: Vec<u32>,
    hosts: usize,
    limits: BookingLimits,
}

/// Sorted period starts; period `i` is `[starts[i], starts[i + 1])`.
#[derive(Debug, Default)]
struct Bounds {
    starts: Vec<i64>,
    counts: Vec<u32>,
}

impl Bounds {
    /// Boundaries at local midnight of each date of `dates` (ascending), counts zeroed.
    fn new(zone: &Zone, dates: impl Iterator<Item = Date>) -> Self {
        let starts: Vec<i64> = dates
            .filter_map(|d| zone.instant(d, TimeOfDay::MIDNIGHT))
            .map(ceil_ms)
            .collect();
        let counts = vec![0; starts.len().saturating_sub(1)];
        Self { starts, counts }
    }

    fn index(&self, t: i64) -> Option<usize> {
        let i = self.starts.partition_point(|&b| b <= t);
        (i > 0 && i < self.starts.len()).then(|| i - 1)
    }

    fn add(&mut self, t: i64) -> Option<usize> {
        let i = self.index(t)?;
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        Some(i)
    }

    /// True when the period of `t` already holds `limit` bookings.
    fn full(&self, t: i64, limit: Option<u32>) -> bool {
        match limit {
            Some(limit) => self
                .index(t)
                .and_then(|i| self.counts.get(i))
                .is_some_and(|&c| c >= limit),
            None => false,
        }
    }
}

/// Successive dates from `from` while `keep` holds, stepping with `next`.
fn dates(
    from: Date,
    next: impl Fn(Date) -> Option<Date>,
    keep: impl Fn(Date) -> bool,
) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(from), move |&d| next(d)).take_while(move |&d| keep(d))
}

impl Periods {
    /// The periods covering `[lo, hi)` in `zone`, with `counted` tallied; `round_robin` also
    /// tallies each month per host (hosts in `hosts` order).
    pub(super) fn new(
        zone: &Zone,
        lo: i64,
        hi: i64,
        limits: BookingLimits,
        counted: &[CountedBooking],
        round_robin: Option<&[HostInput]>,
    ) -> Self {
        let (Some(lo_ts), Some(hi_ts)) = (super::host::at_ms(lo), super::host::at_ms(hi)) else {
            return Self::default();
        };
        let first = zone.date_of(lo_ts);
        let first = first.yesterday().unwrap_or(first);
        let last = zone.date_of(hi_ts);
        let last = last.tomorrow().unwrap_or(last);
        let tomorrow = |d: Date| d.tomorrow().ok();
        let mut p = Periods {
            limits,
            ..Self::default()
        };
        if limits.per_day.is_some() {
            let end = last.tomorrow().unwrap_or(last);
            p.days = Bounds::new(zone, dates(first, tomorrow, move |d| d <= end));
        }
        if limits.per_week.is_some() {
            let monday = first
                .checked_sub(jiff::Span::new().days(first.weekday().to_monday_zero_offset()))
                .unwrap_or(first);
            let week = |d: Date| d.checked_add(jiff::Span::new().days(7)).ok();
            // One boundary past `last` closes the last week.
            let stop = last.checked_add(jiff::Span::new().days(7)).unwrap_or(last);
            p.weeks = Bounds::new(zone, dates(monday, week, move |d| d <= stop));
        }
        if limits.per_month.is_some() || round_robin.is_some() {
            let month = |d: Date| d.last_of_month().tomorrow().ok();
            let stop = last.last_of_month().tomorrow().unwrap_or(last);
            p.months = Bounds::new(
                zone,
                dates(first.first_of_month(), month, move |d| d <= stop),
            );
        }
        let hosts: Vec<(UserId, usize)> = match round_robin {
            Some(hosts) => {
                let mut v: Vec<(UserId, usize)> = hosts
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (h.user_id, i))
                    .collect();
                v.sort_unstable();
                v
            }
            None => Vec::new(),
        };
        p.hosts = round_robin.map_or(0, <[HostInput]>::len);
        p.host_months = vec![0; p.months.counts.len() * p.hosts];
        for b in counted {
            let t = floor_ms(b.start);
            p.days.add(t);
            p.weeks.add(t);
            let Some(m) = p.months.add(t) else { continue };
            if let Ok(k) = hosts.binary_search_by(|(id, _)| id.cmp(&b.host_user_id)) {
                let h = hosts[k].1;
                if let Some(c) = p.host_months.get_mut(m * p.hosts + h) {
                    *c += 1;
                }
            }
        }
        p
    }

    /// True when a booking at `t` would exceed a per-day, per-week or per-month limit.
    pub(super) fn limit_reached(&self, t: i64) -> bool {
        self.days.full(t, self.limits.per_day)
            || self.weeks.full(t, self.limits.per_week)
            || self.months.full(t, self.limits.per_month)
    }

    /// Of the hosts free at `t` (indices in `hosts` order, ascending), the one with the fewest
    /// bookings in the month of `t`; ties go to the earlier host.
    pub(super) fn fairest(&self, t: i64, free: impl Iterator<Item = usize>) -> Option<usize> {
        let month = self.months.index(t);
        let count = |h: usize| {
            month
                .and_then(|m| self.host_months.get(m * self.hosts + h))
                .copied()
                .unwrap_or(0)
        };
        let mut best: Option<(u32, usize)> = None;
        for h in free {
            let c = count(h);
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, h));
            }
        }
        best.map(|(_, h)| h)
    }
}
