//! The slot engine: which starts of an event type can be booked (§6.4 of the contract).
//!
//! One definition answers `/v1/slots`, `/v1/slots/check` and the re-decision inside the booking
//! transaction: [`check_slot`] is [`list_slots`] over a one-instant window, so a slot we list is
//! a slot we accept and a slot we reject is never listed.
//!
//! Pure functions over sorted interval lists; no I/O, no clock (`now` is an input).

use crate::availability::Schedule;
use crate::event_type::EventType;
use crate::ids::{EventTypeId, UserId};
use crate::interval::Interval;
use jiff::{SignedDuration, Timestamp};

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
        || event_type.scheduling_type == crate::event_type::SchedulingType::Collective;
    let margin = SignedDuration::from_hours(33 * 24);
    let counted = needs_counts.then(|| {
        let s = window.start().checked_sub(margin).unwrap_or(window.start());
        let e = window.end().checked_add(margin).unwrap_or(window.end());
        Interval::new(s, e).unwrap_or(window)
    });
    InputRanges { busy, counted }
}

/// The bookable slots whose start lies in `window`, sorted by start, at most [`MAX_SLOTS`].
pub fn list_slots(inputs: &SlotInputs, window: Interval) -> SlotList {
    let _ = (inputs, window);
    SlotList::default()
}

/// Decides one start: the slot (with its assigned host) or the first reason that applies.
pub fn check_slot(inputs: &SlotInputs, start: Timestamp) -> Result<Slot, UnavailableReason> {
    let _ = (inputs, start);
    Err(UnavailableReason::SlotBusy)
}
