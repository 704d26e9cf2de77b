//! Criterion benchmarks of the slot engine (`domain::slots::list_slots`).
//!
//! (a) one host, 31-day window, weekdays 09:00–17:00 Europe/Berlin, 30-minute duration on a
//!     15-minute grid, 200 existing bookings;
//! (b) round robin over 10 hosts (zones alternating Berlin / New York), 500 bookings each, all
//!     of them counted for fairness, same grid, 31 days.
//!
//! Inputs are built outside the measured closure; only `list_slots` is timed.

// Fixture setup of a benchmark, held to test rules: a malformed fixture should stop the run.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use domain::availability::{LocalRange, Schedule, TimeOfDay, WeeklyRule, Zone};
use domain::event_type::{EventType, SchedulingType};
use domain::fixtures::EventTypeBuilder;
use domain::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use domain::interval::Interval;
use domain::slots::{BusyBlock, CountedBooking, HostInput, SlotInputs, list_slots};
use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};
use std::hint::black_box;
use uuid::Uuid;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn event_type(kind: SchedulingType, hosts: &[UserId]) -> EventType {
    let hosts: Vec<(UserId, ScheduleId)> = hosts
        .iter()
        .enumerate()
        .map(|(i, &user)| (user, ScheduleId(uuid(1000 + i as u128))))
        .collect();
    EventTypeBuilder::new(EventTypeId(uuid(1)), OrganizationId(uuid(2)), "intro")
        .hosts(&hosts)
        .title("Intro")
        .kind(kind)
        .interval(15)
        .buffers(5, 10)
        .notice_hours(2)
        .build()
}

fn schedule(user: UserId, zone: &str) -> Schedule {
    Schedule {
        id: ScheduleId(uuid(3)),
        organization_id: OrganizationId(uuid(2)),
        user_id: user,
        name: "Working hours".into(),
        zone: Zone::parse(zone).unwrap(),
        rules: vec![WeeklyRule {
            days: WEEKDAYS.to_vec(),
            range: LocalRange::new(
                TimeOfDay::parse("09:00").unwrap(),
                TimeOfDay::parse("17:00").unwrap(),
            )
            .unwrap(),
        }],
        overrides: vec![],
        version: 1,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

/// `n` 30-minute bookings (5 + 10 minute buffers) at pseudo-random quarter hours of the window.
fn bookings(seed: u64, n: usize, window: Interval) -> Vec<BusyBlock> {
    let quarters = window.end().duration_since(window.start()).as_mins() / 15;
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let q = (x >> 33) as i64 % quarters;
            let start = window.start() + SignedDuration::from_mins(q * 15);
            BusyBlock {
                blocked: Interval::new(
                    start - SignedDuration::from_mins(5),
                    start + SignedDuration::from_mins(40),
                )
                .unwrap(),
                event_type_id: EventTypeId(uuid(1)),
                start,
            }
        })
        .collect()
}

fn window() -> (Timestamp, Interval) {
    let now: Timestamp = "2026-05-31T12:00:00Z".parse().unwrap();
    let start: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    (
        now,
        Interval::new(start, start + SignedDuration::from_hours(31 * 24)).unwrap(),
    )
}

fn single_host() -> (SlotInputs, Interval) {
    let (now, window) = window();
    let user = UserId(uuid(10));
    let inputs = SlotInputs {
        event_type: event_type(SchedulingType::Individual, &[user]),
        hosts: vec![HostInput {
            user_id: user,
            schedule: schedule(user, "Europe/Berlin"),
            busy: bookings(1, 200, window),
        }],
        counted: vec![],
        now,
    };
    (inputs, window)
}

fn round_robin() -> (SlotInputs, Interval) {
    let (now, window) = window();
    let users: Vec<UserId> = (0..10).map(|i| UserId(uuid(100 + i))).collect();
    let mut counted = Vec::new();
    let hosts = users
        .iter()
        .enumerate()
        .map(|(i, &user)| {
            let zone = if i % 2 == 0 {
                "Europe/Berlin"
            } else {
                "America/New_York"
            };
            let busy = bookings(i as u64 + 7, 500, window);
            counted.extend(busy.iter().map(|b| CountedBooking {
                start: b.start,
                host_user_id: user,
            }));
            HostInput {
                user_id: user,
                schedule: schedule(user, zone),
                busy,
            }
        })
        .collect();
    let inputs = SlotInputs {
        event_type: event_type(SchedulingType::RoundRobin, &users),
        hosts,
        counted,
        now,
    };
    (inputs, window)
}

/// Prints what a scenario computes, so that a benchmark of an empty answer is noticed.
fn report(name: &str, inputs: &SlotInputs, window: Interval) {
    let list = list_slots(inputs, window);
    let hosts: std::collections::BTreeSet<_> =
        list.slots.iter().filter_map(|s| s.host_user_id).collect();
    eprintln!(
        "scenario {name}: {} slots, {} distinct assigned hosts, truncated: {}",
        list.slots.len(),
        hosts.len(),
        list.truncated
    );
    assert!(!list.slots.is_empty(), "scenario {name} offers no slot");
}

fn bench(c: &mut Criterion) {
    let (inputs, window) = single_host();
    report("a", &inputs, window);
    c.bench_function("list_slots/a_one_host_31d_200_bookings", |b| {
        b.iter(|| list_slots(black_box(&inputs), black_box(window)))
    });
    let (inputs, window) = round_robin();
    report("b", &inputs, window);
    c.bench_function("list_slots/b_round_robin_10x500_31d", |b| {
        b.iter(|| list_slots(black_box(&inputs), black_box(window)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
