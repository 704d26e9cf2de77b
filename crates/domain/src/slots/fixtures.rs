//! Test-only builders for slot-engine inputs: terse schedules, event types, bookings and a
//! compact rendering of slot lists. Never compiled outside `cfg(test)`.

use super::{BusyBlock, CountedBooking, HostInput, SlotInputs, SlotList};
use crate::availability::{DateOverride, LocalRange, Schedule, TimeOfDay, WeeklyRule, Zone};
use crate::event_type::{EventType, Host, SchedulingType};
use crate::fixtures::EventTypeBuilder;
use crate::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use crate::interval::Interval;
use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

pub const ALL: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

pub const ET: EventTypeId = EventTypeId(Uuid::from_u128(1));
pub const OTHER_ET: EventTypeId = EventTypeId(Uuid::from_u128(2));

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

pub fn user(n: u128) -> UserId {
    UserId(Uuid::from_u128(100 + n))
}

pub fn window(a: &str, b: &str) -> Interval {
    Interval::new(ts(a), ts(b)).unwrap()
}

fn range(a: &str, b: &str) -> LocalRange {
    LocalRange::new(TimeOfDay::parse(a).unwrap(), TimeOfDay::parse(b).unwrap()).unwrap()
}

/// A schedule in `zone` with the same hours `ranges` on every weekday in `days`.
pub fn sched_on(zone: &str, days: &[Weekday], ranges: &[(&str, &str)]) -> Schedule {
    Schedule {
        id: ScheduleId(Uuid::from_u128(3)),
        organization_id: OrganizationId(Uuid::from_u128(4)),
        user_id: user(0),
        name: "Working hours".into(),
        zone: Zone::parse(zone).unwrap(),
        rules: ranges
            .iter()
            .map(|(a, b)| WeeklyRule {
                days: days.to_vec(),
                range: range(a, b),
            })
            .collect(),
        overrides: vec![],
        version: 1,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

/// A schedule in `zone` with the same hours every day.
pub fn sched(zone: &str, ranges: &[(&str, &str)]) -> Schedule {
    sched_on(zone, &ALL, ranges)
}

/// Adds a date override.
pub fn with_override(mut s: Schedule, date: Date, ranges: &[(&str, &str)]) -> Schedule {
    s.overrides.push(DateOverride {
        date,
        intervals: ranges.iter().map(|(a, b)| range(a, b)).collect(),
    });
    s
}

/// An active individual event type: `duration` minutes on an `interval`-minute grid, no
/// buffers, notice, horizon or limits.
pub fn event_type(duration: u32, interval: u32) -> EventType {
    EventTypeBuilder::new(ET, OrganizationId(Uuid::from_u128(4)), "intro")
        .host(user(0), ScheduleId(Uuid::from_u128(3)))
        .title("Intro")
        .duration(duration)
        .interval(interval)
        .build()
}

/// Round robin over `schedules` (host `i` is `user(i)`).
pub fn round_robin(et: EventType, schedules: Vec<Schedule>, now: &str) -> SlotInputs {
    let mut et = et;
    et.scheduling_type = SchedulingType::RoundRobin;
    et.hosts = (0..schedules.len())
        .map(|i| Host {
            user_id: user(i as u128),
            schedule_id: ScheduleId(Uuid::from_u128(3)),
        })
        .collect();
    SlotInputs {
        event_type: et,
        hosts: schedules
            .into_iter()
            .enumerate()
            .map(|(i, schedule)| HostInput {
                user_id: user(i as u128),
                schedule,
                busy: vec![],
            })
            .collect(),
        counted: vec![],
        now: ts(now),
    }
}

/// One host (`user(0)`) with `schedule`.
pub fn single(et: EventType, schedule: Schedule, now: &str) -> SlotInputs {
    SlotInputs {
        event_type: et,
        hosts: vec![HostInput {
            user_id: user(0),
            schedule,
            busy: vec![],
        }],
        counted: vec![],
        now: ts(now),
    }
}

/// A booking of `event_type_id` at `start` lasting `duration` minutes with the given buffers.
pub fn block(
    event_type_id: EventTypeId,
    start: &str,
    duration: i64,
    before: i64,
    after: i64,
) -> BusyBlock {
    let start = ts(start);
    BusyBlock {
        blocked: Interval::new(start - mins(before), start + mins(duration + after)).unwrap(),
        event_type_id,
        start,
    }
}

pub fn counted(start: &str, host: UserId) -> CountedBooking {
    CountedBooking {
        start: ts(start),
        host_user_id: host,
    }
}

/// Slot starts as RFC 3339 UTC strings.
pub fn starts(list: &SlotList) -> Vec<String> {
    list.slots.iter().map(|s| s.start.to_string()).collect()
}

/// Expected starts: `"2026-06-01T"` + each suffix + `"Z"`.
pub fn on(day: &str, times: &[&str]) -> Vec<String> {
    times.iter().map(|t| format!("{day}T{t}:00Z")).collect()
}
