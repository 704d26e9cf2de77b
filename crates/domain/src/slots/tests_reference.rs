//! The optimised engine returns exactly what the former engine (`reference`) returned: on the
//! small random inputs of `proptests` (DST-transition days in Berlin, New York, Lord Howe and
//! Apia's skipped day) and on month-long, bench-sized inputs (one host with 200 bookings, round
//! robin over 10 hosts with 500 bookings each, all counted), with random zones, windows around
//! transitions, buffers, grids, notice, limits and seats.

use super::fixtures::*;
use super::proptests::inputs_and_window;
use super::*;
use crate::event_type::BookingLimits;
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "UTC",
];

/// Month-long windows starting at midnight UTC, each spanning a DST transition (or Apia's
/// skipped 2011-12-30) except the June one.
const STARTS: &[&str] = &[
    "2026-03-10T00:00:00Z",
    "2026-10-10T00:00:00Z",
    "2026-03-25T00:00:00Z",
    "2026-09-20T00:00:00Z",
    "2011-12-15T00:00:00Z",
    "2026-06-01T00:00:00Z",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Individual,
    Group,
    RoundRobin,
}

/// `n` bookings at pseudo-random quarter hours of `[start, start + 31 d)` (a linear
/// congruential sequence from `seed`), lengths 15–120 min, buffers 0–15 min, some of another
/// event type.
fn busy_blocks(seed: u64, n: usize, start: Timestamp) -> Vec<BusyBlock> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as i64
    };
    (0..n)
        .map(|_| {
            let at = start + mins(next() % (31 * 96) * 15);
            let len = 15 + next() % 8 * 15;
            let (before, after) = (next() % 16, next() % 16);
            BusyBlock {
                blocked: Interval::new(at - mins(before), at + mins(len + after)).unwrap(),
                event_type_id: if next() % 5 == 0 { OTHER_ET } else { ET },
                start: at,
            }
        })
        .collect()
}

prop_compose! {
    fn month_inputs()(
        kind in prop_oneof![Just(Kind::Individual), Just(Kind::Group), Just(Kind::RoundRobin)],
        zones in prop::collection::vec(0..ZONES.len(), 10),
        start in 0..STARTS.len(),
        hosts in 1usize..=10,
        per_host in prop_oneof![Just(200usize), Just(500usize), 0usize..50],
        seed in any::<u64>(),
        duration in prop_oneof![Just(30u32), 5u32..120],
        interval in prop_oneof![Just(15u32), 5u32..90],
        before in prop_oneof![Just(5u32), 0u32..30],
        after in prop_oneof![Just(10u32), 0u32..30],
        notice in prop_oneof![Just(2u32), 0u32..72],
        future in prop_oneof![Just(0u32), 1u32..40],
        limit in prop::option::of((0usize..3, 1u32..6)),
        seats in 1u32..4,
        now_offset in -2 * 1440i64..2 * 1440,
        hours in prop_oneof![Just(9u16..17), Just(0u16..24), Just(1u16..4)],
    ) -> (SlotInputs, Interval) {
        let start = ts(STARTS[start]);
        let mut et = event_type(duration, interval);
        et.buffer_before_minutes = before;
        et.buffer_after_minutes = after;
        et.minimum_notice_hours = notice;
        et.future_limit_days = future;
        et.seats = seats;
        et.limits = match limit {
            Some((0, n)) => BookingLimits { per_day: Some(n), ..BookingLimits::default() },
            Some((1, n)) => BookingLimits { per_week: Some(n * 3), ..BookingLimits::default() },
            Some((_, n)) => BookingLimits { per_month: Some(n * 20), ..BookingLimits::default() },
            None => BookingLimits::default(),
        };
        let n = if kind == Kind::RoundRobin { hosts } else { 1 };
        let from = format!("{:02}:00", hours.start);
        let to = format!("{:02}:00", hours.end);
        let schedules = (0..n)
            .map(|i| sched(ZONES[zones[i]], &[(from.as_str(), to.as_str())]))
            .collect();
        let mut inputs = round_robin(et, schedules, "2000-01-01T00:00:00Z");
        inputs.event_type.scheduling_type = match kind {
            Kind::Individual => SchedulingType::Individual,
            Kind::Group => SchedulingType::Group,
            Kind::RoundRobin => SchedulingType::RoundRobin,
        };
        inputs.now = start + mins(now_offset);
        for (i, host) in inputs.hosts.iter_mut().enumerate() {
            host.busy = busy_blocks(seed ^ i as u64, per_host, start);
            inputs.counted.extend(
                host.busy
                    .iter()
                    .filter(|b| b.event_type_id == ET)
                    .map(|b| CountedBooking { start: b.start, host_user_id: host.user_id }),
            );
        }
        let window = Interval::new(start, start + MAX_WINDOW).unwrap();
        (inputs, window)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn month_long_inputs_give_the_reference_engines_slots((inputs, w) in month_inputs()) {
        prop_assert_eq!(list_slots(&inputs, w), reference::list_slots(&inputs, w));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn small_inputs_give_the_reference_engines_slots((inputs, w) in inputs_and_window()) {
        prop_assert_eq!(list_slots(&inputs, w), reference::list_slots(&inputs, w));
    }
}
