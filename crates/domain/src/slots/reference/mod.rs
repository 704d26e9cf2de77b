//! The slot engine as it was before the issue 18 optimisation, kept verbatim as the reference
//! the optimised engine is compared with (`tests_reference`): same inputs, same `SlotList`.
//! Test-only; never change it to make a comparison pass.

// A verbatim copy of the former engine: some helpers are used only by the copied code paths.
#![allow(dead_code)]

mod host;
mod periods;

use super::{Slot, SlotInputs, SlotList, earliest_start, horizon};
use crate::event_type::SchedulingType;
use crate::ids::UserId;
use crate::interval::Interval;
use host::{Params, Scratch, at_ms, ceil_ms, duration_ms};
use periods::Periods;

/// The former `list_slots`.
pub(super) fn list_slots(inputs: &SlotInputs, window: Interval) -> SlotList {
    compute(inputs, window, super::MAX_SLOTS)
}

/// [`list_slots`] keeping at most `max` slots (`truncated` when more existed).
fn compute(inputs: &SlotInputs, window: Interval, max: usize) -> SlotList {
    let et = &inputs.event_type;
    if !et.active || inputs.hosts.is_empty() {
        return SlotList::default();
    }
    let Some(earliest) = earliest_start(inputs) else {
        return SlotList::default();
    };
    let lo = ceil_ms(window.start())
        .max(ceil_ms(earliest))
        .max(ceil_ms(inputs.now));
    let hi = match horizon(inputs) {
        Some(h) => ceil_ms(window.end()).min(ceil_ms(h)),
        None => ceil_ms(window.end()),
    };
    if lo >= hi {
        return SlotList::default();
    }
    let interval = if et.slot_interval_minutes > 0 {
        et.slot_interval()
    } else {
        et.duration()
    };
    let params = Params {
        duration: duration_ms(et.duration()),
        interval: duration_ms(interval).max(60_000),
        before: duration_ms(et.buffer_before()),
        after: duration_ms(et.buffer_after()),
        lo,
        hi,
        seats_of: (et.scheduling_type == SchedulingType::Group).then_some(et.id),
    };
    let round_robin = et.scheduling_type == SchedulingType::RoundRobin;
    let limited = et.limits.per_day.is_some()
        || et.limits.per_week.is_some()
        || et.limits.per_month.is_some();
    let periods = (limited || round_robin).then(|| {
        Periods::new(
            &inputs.zone(),
            lo,
            hi,
            et.limits,
            &inputs.counted,
            round_robin.then_some(inputs.hosts.as_slice()),
        )
    });
    let mut out = Output {
        list: SlotList::default(),
        max,
        duration: params.duration,
    };
    let mut scratch = Scratch::default();
    if round_robin {
        let mut per_host: Vec<(i64, usize)> = Vec::new();
        let mut free = Vec::new();
        for (i, host) in inputs.hosts.iter().enumerate() {
            free.clear();
            host::free_starts(host, &params, &mut scratch, &mut free);
            per_host.extend(free.iter().map(|f| (f.start, i)));
        }
        // Concatenated sorted runs: the stable sort merges them.
        per_host.sort();
        let mut i = 0;
        while i < per_host.len() {
            let start = per_host[i].0;
            let j = i + per_host[i..].partition_point(|&(s, _)| s == start);
            let allowed = periods.as_ref().is_none_or(|p| !p.limit_reached(start));
            if allowed {
                let chosen = periods
                    .as_ref()
                    .and_then(|p| p.fairest(start, per_host[i..j].iter().map(|&(_, h)| h)));
                let host = chosen.and_then(|h| inputs.hosts.get(h)).map(|h| h.user_id);
                if !out.push(start, host, None) {
                    break;
                }
            }
            i = j;
        }
    } else if let Some(host) = inputs.hosts.first() {
        let capacity = et.capacity();
        let group = et.scheduling_type == SchedulingType::Group;
        let mut free = Vec::new();
        host::free_starts(host, &params, &mut scratch, &mut free);
        for f in free {
            if f.taken >= capacity {
                continue;
            }
            if periods.as_ref().is_some_and(|p| p.limit_reached(f.start)) {
                continue;
            }
            let seats = group.then(|| capacity - f.taken);
            if !out.push(f.start, None, seats) {
                break;
            }
        }
    }
    out.list
}

/// Collects slots up to a maximum.
struct Output {
    list: SlotList,
    max: usize,
    duration: i64,
}

impl Output {
    /// Adds a slot; `false` once one more than `max` was offered (the list is then truncated).
    fn push(&mut self, start: i64, host: Option<UserId>, seats: Option<u32>) -> bool {
        if self.list.slots.len() >= self.max {
            self.list.truncated = true;
            return false;
        }
        if let (Some(s), Some(e)) = (at_ms(start), at_ms(start.saturating_add(self.duration))) {
            self.list.slots.push(Slot {
                start: s,
                end: e,
                host_user_id: host,
                seats_remaining: seats,
            });
        }
        true
    }
}
