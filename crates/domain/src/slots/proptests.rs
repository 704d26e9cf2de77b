//! Property tests of the slot engine (GUIDE: slots lie inside availability, never overlap busy
//! time ± buffers, are sorted, unique and aligned; splitting the window changes nothing; a
//! booked slot disappears; `check_slot` accepts exactly the listed starts).
//!
//! Inputs are random schedules in DST-observing zones around their transition days, random
//! busy blocks, buffers, notice, horizon, limits and up to three round-robin hosts.

use super::fixtures::*;
use super::*;
use crate::availability::{DayFree, LocalRange, TimeOfDay, WeeklyRule};
use crate::booking::Booking;
use crate::event_type::{BookingLimits, SchedulingType};
use crate::interval;
use jiff::civil::Weekday;
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Apia",
];

/// Days around DST transitions (and one quiet day), midnight UTC.
const BASES: &[&str] = &[
    "2026-03-27T00:00:00Z",
    "2026-10-23T00:00:00Z",
    "2026-03-06T00:00:00Z",
    "2026-10-30T00:00:00Z",
    "2026-04-03T00:00:00Z",
    "2026-10-02T00:00:00Z",
    "2011-12-28T00:00:00Z",
    "2026-06-01T00:00:00Z",
];

fn schedule() -> impl Strategy<Value = crate::availability::Schedule> {
    let rule = (1u8..128, 0u16..96, 1u16..48).prop_map(|(mask, start_q, len_q)| {
        let start = start_q * 15;
        let end = (start + len_q * 15).min(24 * 60);
        WeeklyRule {
            days: ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, d)| *d)
                .collect::<Vec<Weekday>>(),
            range: LocalRange::new(
                TimeOfDay::new(start / 60, start % 60).unwrap(),
                TimeOfDay::new(end / 60, end % 60).unwrap(),
            )
            .unwrap(),
        }
    });
    (0..ZONES.len(), prop::collection::vec(rule, 1..4)).prop_map(|(z, rules)| {
        let mut s = sched(ZONES[z], &[]);
        s.rules = rules;
        s
    })
}

/// Offsets (minutes from the base) and lengths of busy blocks, and whether each is of the
/// event type itself.
fn busy() -> impl Strategy<Value = Vec<(i64, i64, bool)>> {
    prop::collection::vec((-1440i64..6 * 1440, 5i64..240, any::<bool>()), 0..12)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Individual,
    Group,
    RoundRobin,
}

prop_compose! {
    pub(super) fn inputs_and_window()(
        base in 0..BASES.len(),
        kind in prop_oneof![Just(Kind::Individual), Just(Kind::Group), Just(Kind::RoundRobin)],
        schedules in prop::collection::vec(schedule(), 1..4),
        busies in prop::collection::vec(busy(), 3),
        duration in 5u32..180,
        interval in 5u32..120,
        before in prop_oneof![Just(0u32), 1u32..60],
        after in prop_oneof![Just(0u32), 1u32..60],
        seats in 1u32..4,
        notice in prop_oneof![2 => Just(0u32), 1 => 1u32..48],
        future in prop_oneof![Just(0u32), 1u32..5],
        per_day in prop::option::of(1u32..3),
        counted_at in prop::collection::vec((0i64..6 * 1440, 0u128..3), 0..8),
        now_offset in -3 * 1440i64..1440,
        win in (0i64..2 * 1440, 60i64..4 * 1440),
    ) -> (SlotInputs, Interval) {
        let base = ts(BASES[base]);
        let mut et = event_type(duration, interval);
        et.buffer_before_minutes = before;
        et.buffer_after_minutes = after;
        et.minimum_notice_hours = notice;
        et.future_limit_days = future;
        et.limits = BookingLimits { per_day, ..BookingLimits::default() };
        let n = if kind == Kind::RoundRobin { schedules.len() } else { 1 };
        let mut inputs = round_robin(et, schedules[..n].to_vec(), "2000-01-01T00:00:00Z");
        inputs.event_type.scheduling_type = match kind {
            Kind::Individual => SchedulingType::Individual,
            Kind::Group => SchedulingType::Group,
            Kind::RoundRobin => SchedulingType::RoundRobin,
        };
        inputs.event_type.seats = seats;
        for (host, blocks) in inputs.hosts.iter_mut().zip(busies) {
            host.busy = blocks
                .into_iter()
                .map(|(off, len, own)| {
                    let start = base + mins(off);
                    BusyBlock {
                        blocked: Interval::new(start, start + mins(len)).unwrap(),
                        event_type_id: if own { ET } else { OTHER_ET },
                        start,
                    }
                })
                .collect();
        }
        inputs.counted = counted_at
            .into_iter()
            .map(|(off, h)| CountedBooking { start: base + mins(off), host_user_id: user(h) })
            .collect();
        inputs.now = base + mins(now_offset);
        let start = base + mins(win.0);
        (inputs, Interval::new(start, start + mins(win.1)).unwrap())
    }
}

/// One host's expanded days around the window, with margin.
fn days_of(inputs: &SlotInputs, host: usize, w: Interval) -> Vec<DayFree> {
    let s = &inputs.hosts[host].schedule;
    let first = s.zone.date_of(w.start() - mins(3 * 1440));
    let last = s.zone.date_of(w.end() + mins(3 * 1440));
    s.expand(first, last)
}

fn host_index(inputs: &SlotInputs, slot: &Slot) -> usize {
    match slot.host_user_id {
        Some(id) => inputs.hosts.iter().position(|h| h.user_id == id).unwrap(),
        None => 0,
    }
}

/// The grid starts (before busy time, notice and limits) of every host inside `w`.
fn grid_starts(inputs: &SlotInputs, w: Interval) -> Vec<Timestamp> {
    let mut out = Vec::new();
    for h in 0..inputs.hosts.len() {
        for day in days_of(inputs, h, w) {
            for iv in day.intervals {
                let mut s = iv.start();
                while s < iv.end() {
                    if w.contains_instant(s) {
                        out.push(s);
                    }
                    s += inputs.event_type.slot_interval();
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn slots_are_sorted_aligned_free_and_not_busy((inputs, w) in inputs_and_window()) {
        let et = &inputs.event_type;
        let list = list_slots(&inputs, w);
        prop_assert!(!list.truncated);
        for pair in list.slots.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "sorted and unique");
        }
        for slot in &list.slots {
            prop_assert!(w.contains_instant(slot.start));
            prop_assert_eq!(slot.end, slot.start + et.duration());
            prop_assert!(slot.start >= inputs.now + SignedDuration::from_hours(i64::from(et.minimum_notice_hours)));
            let h = host_index(&inputs, slot);
            prop_assert_eq!(slot.host_user_id.is_some(), et.scheduling_type == SchedulingType::RoundRobin);
            let days = days_of(&inputs, h, w);
            // Inside the union of free time.
            let union = interval::merge(days.iter().flat_map(|d| d.intervals.clone()).collect());
            let span = Interval::new(slot.start, slot.end).unwrap();
            prop_assert!(union.iter().any(|u| u.contains(&span)), "{:?} outside availability", slot);
            // On the grid of the interval it starts in.
            let step = et.slot_interval().as_secs();
            prop_assert!(days.iter().flat_map(|d| &d.intervals).any(|iv| {
                iv.contains_instant(slot.start)
                    && slot.start.duration_since(iv.start()).as_secs() % step == 0
            }), "{:?} off the grid", slot);
            // Clear of every busy block, seats of the same group slot excepted.
            let blocked = Booking::blocked_interval(slot.start, et.duration(), et.buffer_before(), et.buffer_after()).unwrap();
            let group = et.scheduling_type == SchedulingType::Group;
            for b in &inputs.hosts[h].busy {
                let seat = group && b.event_type_id == et.id && b.start == slot.start;
                prop_assert!(seat || !b.blocked.overlaps(&blocked), "{:?} overlaps {:?}", slot, b);
            }
            if group {
                let taken = inputs.hosts[0].busy.iter().filter(|b| b.event_type_id == et.id && b.start == slot.start).count() as u32;
                prop_assert_eq!(slot.seats_remaining, Some(et.capacity() - taken));
            }
        }
    }

    #[test]
    fn splitting_the_window_changes_nothing((inputs, w) in inputs_and_window(), at in 0.0f64..1.0) {
        let len = w.end().duration_since(w.start()).as_secs_f64();
        let split = w.start() + SignedDuration::from_secs_f64(len * at);
        let whole = list_slots(&inputs, w);
        let mut parts = Vec::new();
        for part in [Interval::new(w.start(), split), Interval::new(split, w.end())].into_iter().flatten() {
            parts.extend(list_slots(&inputs, part).slots);
        }
        prop_assert_eq!(parts, whole.slots);
    }

    #[test]
    fn a_booked_slot_disappears((inputs, w) in inputs_and_window(), pick in any::<prop::sample::Index>()) {
        let list = list_slots(&inputs, w);
        prop_assume!(!list.slots.is_empty());
        let slot = list.slots[pick.index(list.slots.len())];
        let et = &inputs.event_type;
        let h = host_index(&inputs, &slot);
        let mut booked = inputs.clone();
        let block = BusyBlock {
            blocked: Booking::blocked_interval(slot.start, et.duration(), et.buffer_before(), et.buffer_after()).unwrap(),
            event_type_id: et.id,
            start: slot.start,
        };
        let seats = slot.seats_remaining.unwrap_or(1);
        for _ in 0..seats {
            booked.hosts[h].busy.push(block);
        }
        let after = check_slot(&booked, slot.start);
        if et.scheduling_type == SchedulingType::RoundRobin {
            // Another free host may take it, never the booked one.
            if let Ok(s) = after {
                prop_assert_ne!(s.host_user_id, slot.host_user_id);
            }
        } else {
            prop_assert_eq!(after, Err(UnavailableReason::SlotBusy));
            prop_assert!(list_slots(&booked, w).slots.iter().all(|s| s.start != slot.start));
        }
    }

    #[test]
    fn check_slot_accepts_exactly_the_listed_starts((inputs, w) in inputs_and_window(), extra in prop::collection::vec(0.0f64..1.0, 8)) {
        let list = list_slots(&inputs, w);
        let len = w.end().duration_since(w.start()).as_secs_f64();
        let mut probes = grid_starts(&inputs, w);
        probes.extend(extra.iter().map(|f| w.start() + SignedDuration::from_secs(((len * f) as i64 / 60) * 60)));
        probes.extend(list.slots.iter().map(|s| s.start));
        for t in probes {
            let listed = list.slots.iter().find(|s| s.start == t).copied();
            let checked = check_slot(&inputs, t);
            prop_assert_eq!(checked.ok(), listed, "at {}", t);
            if let Err(reason) = checked {
                let et = &inputs.event_type;
                let expected_first = if t < inputs.now {
                    UnavailableReason::InPast
                } else if t < inputs.now + SignedDuration::from_hours(i64::from(et.minimum_notice_hours)) {
                    UnavailableReason::OutsideMinimumNotice
                } else {
                    reason
                };
                prop_assert_eq!(reason, expected_first);
            }
        }
        if let Some(first) = list.slots.first() {
            let before = first.start - SignedDuration::from_nanos(1);
            prop_assert_eq!(next_available(&inputs, before), Some(first.start));
        }
    }
}
