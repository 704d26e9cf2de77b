//! The slot engine: which starts of an event type can be booked (§6.4 of the contract).
//!
//! One definition answers `/v1/slots`, `/v1/slots/check` and the re-decision inside the booking
//! transaction: [`check_slot`] is [`list_slots`] over a one-instant window, so a slot we list is
//! a slot we accept and a slot we reject is never listed.
//!
//! Pure functions over sorted interval lists; no I/O, no clock (`now` is an input). Internally
//! everything is integer milliseconds: `host` sweeps one host's grid against its merged busy
//! blocks with a moving index, `days` expands a schedule's local dates into millisecond
//! intervals (a zone lookup only near an offset transition), `periods` places starts in local
//! days, ISO weeks and months whose boundaries are computed once. `reference` (tests only) is
//! the former engine that `tests_reference` compares this one with. Nothing is allocated or converted between time zones per
//! candidate start.
//!
//! Zones: each host's grid comes from its own schedule's zone; the future limit and booking
//! limits (and round-robin months) are counted in the first host's schedule zone. An
//! individual or group event type uses its first host only.

mod days;
mod host;
mod periods;

use crate::availability::{Schedule, TimeOfDay, Zone};
use crate::event_type::{EventType, SchedulingType};
use crate::ids::{EventTypeId, UserId};
use crate::interval::Interval;
use host::{Params, Scratch, at_ms, ceil_ms, duration_ms};
use jiff::{SignedDuration, Timestamp};
use periods::Periods;

/// At most this many slots are returned; beyond it `truncated` is set.
pub const MAX_SLOTS: usize = 2000;
/// The widest query window.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(31 * 24);

/// Time a host cannot be booked because of an existing booking that holds time:
/// `[start - buffer_before, end + buffer_after)` of that booking's own event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyBlock {
    pub blocked: Interval,
    pub event_type_id: EventTypeId,
    /// The booking's start (identifies group-seat bookings of one slot).
    pub start: Timestamp,
}

/// A booking of the event type being computed that holds time; used for per-period limits and
/// round-robin fairness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedBooking {
    pub start: Timestamp,
    pub host_user_id: UserId,
}

/// One host's availability and busy time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInput {
    pub user_id: UserId,
    pub schedule: Schedule,
    /// Busy blocks overlapping [`InputRanges::busy`], any order.
    pub busy: Vec<BusyBlock>,
}

/// Everything needed to decide slots for one event type; loaded by a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInputs {
    pub event_type: EventType,
    /// In the order of `event_type.hosts`.
    pub hosts: Vec<HostInput>,
    /// Time-holding bookings of this event type starting inside [`InputRanges::counted`].
    pub counted: Vec<CountedBooking>,
    pub now: Timestamp,
}

/// The ranges of stored data a window's computation depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputRanges {
    /// Busy blocks overlapping this interval matter.
    pub busy: Interval,
    /// Bookings of the event type starting in this interval matter (`None`: no limits and no
    /// round robin, nothing to count).
    pub counted: Option<Interval>,
}

/// One bookable start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The host who would be assigned (round robin only).
    pub host_user_id: Option<UserId>,
    /// Seats left (group events only).
    pub seats_remaining: Option<u32>,
}

/// The slots of a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotList {
    pub slots: Vec<Slot>,
    /// More than [`MAX_SLOTS`] slots existed.
    pub truncated: bool,
}

/// Why a start cannot be booked, in the order `/v1/slots/check` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnavailableReason {
    EventTypeInactive,
    InPast,
    OutsideMinimumNotice,
    OutsideFutureLimit,
    SlotBusy,
}

impl UnavailableReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::EventTypeInactive => "event_type_inactive",
            Self::InPast => "in_past",
            Self::OutsideMinimumNotice => "outside_minimum_notice",
            Self::OutsideFutureLimit => "outside_future_limit",
            Self::SlotBusy => "slot_busy",
        }
    }
}

/// The data ranges to load for computing `window` of `event_type`.
pub fn input_ranges(event_type: &EventType, window: Interval) -> InputRanges {
    let slack = event_type.duration() + event_type.buffer_after();
    let busy_start = window
        .start()
        .checked_sub(event_type.buffer_before())
        .unwrap_or(window.start());
    let busy_end = window.end().checked_add(slack).unwrap_or(window.end());
    let busy = Interval::new(busy_start, busy_end).unwrap_or(window);
    let needs_counts = event_type.limits.per_day.is_some()
        || event_type.limits.per_week.is_some()
        || event_type.limits.per_month.is_some()
        || event_type.scheduling_type == crate::event_type::SchedulingType::RoundRobin;
    let margin = SignedDuration::from_hours(33 * 24);
    let counted = needs_counts.then(|| {
        let s = window.start().checked_sub(margin).unwrap_or(window.start());
        let e = window.end().checked_add(margin).unwrap_or(window.end());
        Interval::new(s, e).unwrap_or(window)
    });
    InputRanges { busy, counted }
}

/// The bookable slots whose start lies in `window`, sorted by start, at most [`MAX_SLOTS`].
///
/// Each host's schedule is expanded over its local dates around the window, its grid swept
/// against its busy blocks; notice, the future limit (end of local date `today +
/// future_limit_days` in the first host's zone), booking limits (first host's zone) and, for
/// round robin, the fairest free host are applied per start. See §6.4 of the contract.
pub fn list_slots(inputs: &SlotInputs, window: Interval) -> SlotList {
    compute(inputs, window, MAX_SLOTS)
}

/// Decides one start: the slot (with its assigned host) or the first reason that applies.
///
/// The first four reasons are checked here in the contract's order; everything else is decided
/// by [`list_slots`] over the one-instant window `[start, start + 1ms)`, so a start is accepted
/// exactly when it is listed.
pub fn check_slot(inputs: &SlotInputs, start: Timestamp) -> Result<Slot, UnavailableReason> {
    let et = &inputs.event_type;
    if !et.active {
        return Err(UnavailableReason::EventTypeInactive);
    }
    if start < inputs.now {
        return Err(UnavailableReason::InPast);
    }
    match earliest_start(inputs) {
        Some(earliest) if start >= earliest => {}
        _ => return Err(UnavailableReason::OutsideMinimumNotice),
    }
    if horizon(inputs).is_some_and(|h| start >= h) {
        return Err(UnavailableReason::OutsideFutureLimit);
    }
    let window = one_instant(start).ok_or(UnavailableReason::SlotBusy)?;
    list_slots(inputs, window)
        .slots
        .into_iter()
        .find(|s| s.start == start)
        .ok_or(UnavailableReason::SlotBusy)
}

/// The one-instant window `[start, start + 1ms)` that decides one start ([`check_slot`]); load
/// its inputs with [`input_ranges`] of it. `None` at the end of time.
pub fn one_instant(start: Timestamp) -> Option<Interval> {
    let end = start.checked_add(SignedDuration::from_millis(1)).ok()?;
    Interval::new(start, end)
}

/// The window [`next_available`] searches: starts strictly after `after` and less than
/// [`MAX_WINDOW`] after it. Load the inputs for this window (`BookingStore::slot_inputs`).
pub fn next_available_window(after: Timestamp) -> Option<Interval> {
    let start = after.checked_add(SignedDuration::from_nanos(1)).ok()?;
    let end = after.checked_add(MAX_WINDOW).ok()?;
    Interval::new(start, end)
}

/// The earliest listed start in [`next_available_window`]`(after)`, the suggestion
/// `/v1/slots/check` returns with `slot_busy`.
pub fn next_available(inputs: &SlotInputs, after: Timestamp) -> Option<Timestamp> {
    let window = next_available_window(after)?;
    compute(inputs, window, 1).slots.first().map(|s| s.start)
}

/// `now + minimum_notice_hours`: the earliest bookable start (`None` when unrepresentable).
fn earliest_start(inputs: &SlotInputs) -> Option<Timestamp> {
    let notice = SignedDuration::from_hours(i64::from(inputs.event_type.minimum_notice_hours));
    inputs.now.checked_add(notice).ok()
}

impl SlotInputs {
    /// The event type's zone ([`EventType::zone`]), looked up among the loaded hosts'
    /// schedules: limits, the horizon and a booking's default zone are counted in it.
    pub fn zone(&self) -> Zone {
        self.event_type.zone(|id| {
            self.hosts
                .iter()
                .map(|h| &h.schedule)
                .find(|s| s.id == id)
                .map(|s| &s.zone)
        })
    }
}

/// The first start beyond the future limit: local midnight beginning date `today +
/// future_limit_days + 1` in the first host's zone; `None` for no limit.
fn horizon(inputs: &SlotInputs) -> Option<Timestamp> {
    let days = inputs.event_type.future_limit_days;
    if days == 0 {
        return None;
    }
    let zone = inputs.zone();
    let today = zone.date_of(inputs.now);
    let date = today
        .checked_add(jiff::Span::new().days(i64::from(days) + 1))
        .ok()?;
    zone.instant(date, TimeOfDay::MIDNIGHT)
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
        // Each host's free starts once, then a k-way merge over the hosts' sorted runs: at
        // each distinct start the hosts free there, in host order (no sort of all entries).
        let mut free = Vec::new();
        let mut ends = Vec::with_capacity(inputs.hosts.len());
        for host in &inputs.hosts {
            host::free_starts(host, &params, &mut scratch, &mut free);
            ends.push(free.len());
        }
        let mut cursors: Vec<usize> = std::iter::once(0)
            .chain(ends.iter().copied())
            .take(ends.len())
            .collect();
        let mut at_start: Vec<usize> = Vec::with_capacity(ends.len());
        loop {
            let next = cursors
                .iter()
                .zip(&ends)
                .filter(|&(&c, &e)| c < e)
                .map(|(&c, _)| free[c].start)
                .min();
            let Some(start) = next else { break };
            at_start.clear();
            for (h, (c, &e)) in cursors.iter_mut().zip(&ends).enumerate() {
                if *c < e && free[*c].start == start {
                    at_start.push(h);
                    *c += 1;
                }
            }
            let allowed = periods.as_ref().is_none_or(|p| !p.limit_reached(start));
            if allowed {
                let chosen = periods
                    .as_ref()
                    .and_then(|p| p.fairest(start, at_start.iter().copied()));
                let host = chosen.and_then(|h| inputs.hosts.get(h)).map(|h| h.user_id);
                if !out.push(start, host, None) {
                    break;
                }
            }
        }
    } else if let Some(host) = inputs.hosts.first() {
        let capacity = et.capacity();
        let group = et.scheduling_type == SchedulingType::Group;
        let mut free = Vec::new();
        host::free_starts(host, &params, &mut scratch, &mut free);
        out.list.slots.reserve(free.len().min(max));
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

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests_reference;
#[cfg(test)]
mod tests_rules;
#[cfg(test)]
mod tests_tzdb;
#[cfg(test)]
mod tests_zones;
