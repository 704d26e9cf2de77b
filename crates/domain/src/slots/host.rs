//! One host's free starts: the availability grid (§6.4.2) swept against that host's busy blocks
//! (§6.4.3) in integer milliseconds.
//!
//! Everything here is linear in the number of candidates after one sort of the busy blocks: the
//! blocks are merged once and swept with a moving index, and nothing is allocated or converted
//! between time zones per candidate. This module never decides notice, horizon, limits or round
//! robin; the caller narrows `[lo, hi)` and applies those.

use super::HostInput;
use crate::ids::EventTypeId;
use jiff::{SignedDuration, Timestamp};

/// Whole milliseconds at or before `t`.
///
/// From the timestamp's seconds and (same-signed) sub-second nanoseconds in 64-bit integers: a
/// 128-bit division per busy block and per counted booking was a tenth of the engine's time.
/// Every representable timestamp's millisecond count fits an `i64` (jiff keeps |seconds| below
/// 2.6 × 10¹¹), so nothing needs clamping.
pub(super) fn floor_ms(t: Timestamp) -> i64 {
    t.as_second() * 1000 + i64::from(t.subsec_nanosecond().div_euclid(1_000_000))
}

/// Whole milliseconds at or after `t`.
pub(super) fn ceil_ms(t: Timestamp) -> i64 {
    let ns = t.subsec_nanosecond();
    t.as_second() * 1000 - i64::from((-ns).div_euclid(1_000_000))
}

pub(super) fn duration_ms(d: SignedDuration) -> i64 {
    clamp_i64(d.as_millis())
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// The instant of a millisecond count, when representable.
pub(super) fn at_ms(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// The per-call constants of one event type, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Params {
    pub duration: i64,
    pub interval: i64,
    pub before: i64,
    pub after: i64,
    /// First admissible start (window start, now, minimum notice).
    pub lo: i64,
    /// First inadmissible start (window end, future limit).
    pub hi: i64,
    /// `Some(own id)` for group events: own bookings at the candidate's start are seats.
    pub seats_of: Option<EventTypeId>,
}

/// A busy interval in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    end: i64,
}

/// A group seat-or-conflict block of the event type itself.
#[derive(Debug, Clone, Copy)]
struct OwnBlock {
    blocked: Span,
    start: i64,
}

/// Reusable buffers so that several hosts cost no more allocations than one.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    anchors: Vec<(i64, i64, i64)>,
    /// One date's intervals before merging.
    day: Vec<(i64, i64)>,
    candidates: Vec<i64>,
    busy: Vec<Span>,
    own: Vec<OwnBlock>,
}

/// A free start of one host and the seats already taken there (group events; 0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Free {
    pub start: i64,
    pub taken: u32,
}

/// Appends to `out`, in increasing order, every start in `[p.lo, p.hi)` on the host's grid whose
/// slot lies in the host's free time and whose blocked interval overlaps no busy block (seats of
/// the same group slot excepted; those are counted in `taken`).
pub(super) fn free_starts(
    host: &HostInput,
    p: &Params,
    scratch: &mut Scratch,
    out: &mut Vec<Free>,
) {
    if p.lo >= p.hi || p.interval <= 0 || p.duration < 0 {
        return;
    }
    grid(host, p, scratch);
    if scratch.candidates.is_empty() {
        return;
    }
    load_busy(host, p, scratch);
    out.reserve(scratch.candidates.len());
    let Scratch {
        candidates,
        busy,
        own,
        ..
    } = scratch;
    let max_own = own
        .iter()
        .map(|b| b.blocked.end - b.blocked.start)
        .max()
        .unwrap_or(0);
    let (mut bi, mut oi) = (0usize, 0usize);
    for &s in candidates.iter() {
        let cs = s.saturating_sub(p.before);
        let ce = s.saturating_add(p.duration).saturating_add(p.after);
        while bi < busy.len() && busy[bi].end <= cs {
            bi += 1;
        }
        if bi < busy.len() && busy[bi].start < ce {
            continue;
        }
        let mut taken = 0u32;
        let mut conflict = false;
        if p.seats_of.is_some() {
            while oi < own.len() && own[oi].blocked.start.saturating_add(max_own) <= cs {
                oi += 1;
            }
            for b in own[oi..].iter().take_while(|b| b.blocked.start < ce) {
                if b.start == s {
                    taken = taken.saturating_add(1);
                } else if b.blocked.end > cs {
                    conflict = true;
                    break;
                }
            }
        }
        if !conflict {
            out.push(Free { start: s, taken });
        }
    }
}

/// Fills `scratch.candidates` with the grid starts in `[lo, hi)` whose slot lies in free time,
/// strictly increasing.
fn grid(host: &HostInput, p: &Params, scratch: &mut Scratch) {
    scratch.anchors.clear();
    scratch.candidates.clear();
    let zone = &host.schedule.zone;
    let (Some(lo_ts), Some(last_start)) = (at_ms(p.lo), at_ms(p.hi.saturating_sub(1))) else {
        return;
    };
    // Dates whose intervals can anchor a start in [lo, hi) or hold the end of its slot.
    let last_end = at_ms(p.hi.saturating_add(p.duration)).unwrap_or(last_start);
    let first = zone.date_of(lo_ts);
    let first = first.yesterday().unwrap_or(first);
    let last = zone.date_of(last_end);
    let last = last.tomorrow().unwrap_or(last);
    super::days::expand_into(
        &host.schedule,
        first,
        last,
        &mut scratch.anchors,
        &mut scratch.day,
    );
    let anchors = &mut scratch.anchors;
    // Dates come in order, so the anchors usually are sorted already.
    if !anchors.is_sorted() {
        anchors.sort_unstable();
    }
    // Each anchor interval lies in one interval of the union of all dates' free time; a slot
    // anchored there must end by that union interval's end.
    let mut g = 0;
    while g < anchors.len() {
        let mut end = anchors[g].1;
        let mut h = g + 1;
        while h < anchors.len() && anchors[h].0 <= end {
            end = end.max(anchors[h].1);
            h += 1;
        }
        for a in &mut anchors[g..h] {
            a.2 = end;
        }
        g = h;
    }
    let out = &mut scratch.candidates;
    let estimate: i64 = anchors
        .iter()
        .map(|&(a, b, _)| (b.min(p.hi) - a.max(p.lo)).max(0) / p.interval + 1)
        .sum();
    out.reserve(usize::try_from(estimate).unwrap_or(0));
    for &(a, b, union_end) in anchors.iter() {
        if b <= p.lo || a >= p.hi {
            continue;
        }
        let k0 = if p.lo > a {
            (p.lo - a + p.interval - 1) / p.interval
        } else {
            0
        };
        let mut s = a.saturating_add(k0.saturating_mul(p.interval));
        let stop = b.min(p.hi);
        let last_fit = union_end.saturating_sub(p.duration);
        while s < stop && s <= last_fit {
            out.push(s);
            s = s.saturating_add(p.interval);
        }
    }
    if !out.windows(2).all(|w| w[0] < w[1]) {
        out.sort_unstable();
        out.dedup();
    }
}

/// Loads the host's busy blocks that can touch a candidate: merged and sorted in `busy`, and for
/// group events the event type's own blocks (seats or conflicts, decided per candidate) in `own`.
fn load_busy(host: &HostInput, p: &Params, scratch: &mut Scratch) {
    scratch.busy.clear();
    scratch.own.clear();
    scratch.busy.reserve(host.busy.len());
    let reach_lo = p.lo.saturating_sub(p.before);
    let reach_hi = p.hi.saturating_add(p.duration).saturating_add(p.after);
    for b in &host.busy {
        let blocked = Span {
            start: floor_ms(b.blocked.start()),
            end: ceil_ms(b.blocked.end()),
        };
        if blocked.end <= reach_lo || blocked.start >= reach_hi {
            continue;
        }
        match p.seats_of {
            Some(id) if b.event_type_id == id => scratch.own.push(OwnBlock {
                blocked,
                start: floor_ms(b.start),
            }),
            _ => scratch.busy.push(blocked),
        }
    }
    let busy = &mut scratch.busy;
    if !busy.is_sorted_by_key(|s| s.start) {
        busy.sort_unstable_by_key(|s| s.start);
    }
    let mut merged = 0usize;
    for i in 0..busy.len() {
        let cur = busy[i];
        if merged > 0 && cur.start <= busy[merged - 1].end {
            let last = &mut busy[merged - 1];
            last.end = last.end.max(cur.end);
        } else {
            busy[merged] = cur;
            merged += 1;
        }
    }
    busy.truncate(merged);
    scratch.own.sort_unstable_by_key(|b| b.blocked.start);
}
