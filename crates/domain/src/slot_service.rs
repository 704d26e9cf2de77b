//! Slot use cases: list the bookable slots of an event type in a window, and check one start
//! with the reason it is unavailable and the next available start. Both answer from the slot
//! engine ([`crate::slots`]) — the same function the booking transaction re-decides with.
//!
//! Bounds arrive as written (RFC 3339 instants or plain dates); plain dates mean local midnight
//! in the requested zone, else the event type's zone ([`EventType::zone`]).

use crate::availability::{DateOrInstant, Zone};
use crate::event_type::{EventType, EventTypeRef};
use crate::event_type_service::{event_type_zone, find_event_type, from_store_error};
use crate::ids::OrganizationId;
use crate::interval::Interval;
use crate::ports::{BookingStore, Clock, EventTypeStore, ScheduleStore};
use crate::slots::{self, MAX_WINDOW, Slot, SlotList, UnavailableReason};
use jiff::Timestamp;
use std::sync::Arc;

/// `GET /v1/slots`: which event type, the window `[start, end)` and the zone for plain dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    pub event_type: EventTypeRef,
    pub start: String,
    pub end: String,
    /// IANA zone name; default the event type's zone.
    pub timezone: Option<String>,
}

/// `GET /v1/slots/check`: one start (and an optional end that must lie after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckQuery {
    pub event_type: EventTypeRef,
    pub start: String,
    pub end: Option<String>,
    pub timezone: Option<String>,
}

/// The slots of a window.
#[derive(Debug, Clone)]
pub struct SlotListing {
    pub event_type: EventType,
    /// The zone plain dates were read in.
    pub zone: Zone,
    /// The instant the slots were computed at.
    pub now: Timestamp,
    pub slots: SlotList,
}

/// The verdict on one start.
#[derive(Debug, Clone)]
pub enum SlotVerdict {
    Available {
        /// The event type's duration.
        duration_minutes: u32,
        slot: Slot,
    },
    Unavailable {
        reason: UnavailableReason,
        /// For `slot_busy`: the next listed start within [`MAX_WINDOW`].
        next_available: Option<Timestamp>,
    },
}

/// Why slots could not be listed or checked.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("event type not found")]
    EventTypeNotFound,
    /// A query parameter is unusable; the message says how to fix it.
    #[error("{param}: {message}")]
    InvalidParam {
        param: &'static str,
        message: String,
    },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

from_store_error!(SlotError);

fn invalid(param: &'static str, message: impl Into<String>) -> SlotError {
    SlotError::InvalidParam {
        param,
        message: message.into(),
    }
}

/// The slot use cases.
#[derive(Clone)]
pub struct SlotService {
    event_types: Arc<dyn EventTypeStore>,
    schedules: Arc<dyn ScheduleStore>,
    /// Reads the slot engine's inputs ([`BookingStore::slot_inputs`]).
    bookings: Arc<dyn BookingStore>,
    clock: Arc<dyn Clock>,
}

impl SlotService {
    pub fn new(
        event_types: Arc<dyn EventTypeStore>,
        schedules: Arc<dyn ScheduleStore>,
        bookings: Arc<dyn BookingStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            event_types,
            schedules,
            bookings,
            clock,
        }
    }

    /// Loads what the slot engine needs to decide `window`: the domain decides the ranges
    /// ([`slots::input_ranges`]), the store loads them.
    async fn load(
        &self,
        et: &EventType,
        window: Interval,
        now: Timestamp,
    ) -> Result<slots::SlotInputs, crate::ports::StoreError> {
        self.bookings
            .slot_inputs(et, slots::input_ranges(et, window), now)
            .await
    }

    /// The bookable slots of the window.
    pub async fn list(&self, org: OrganizationId, q: &SlotQuery) -> Result<SlotListing, SlotError> {
        let et = self.event_type(org, &q.event_type).await?;
        self.list_of(et, q).await
    }

    /// [`Self::list`] for an event type the caller already read inside its organization
    /// (`q.event_type` is not read): one read less, e.g. for the booking page's month.
    pub async fn list_of(&self, et: EventType, q: &SlotQuery) -> Result<SlotListing, SlotError> {
        let named = named_zone(q.timezone.as_deref())?;
        let start = parse_bound("start", &q.start)?;
        let end = parse_bound("end", &q.end)?;
        let instants = matches!(
            (&start, &end),
            (DateOrInstant::Instant(_), DateOrInstant::Instant(_))
        );
        // Two instants do not need the zone to find the window, and the inputs read below hold
        // the first host's schedule: the event type's zone is then taken from them (one read
        // less per listing). A plain date needs the zone first.
        let zone = match named {
            Some(z) => Some(z),
            None if instants => None,
            None => Some(event_type_zone(self.schedules.as_ref(), &et).await?),
        };
        let asked = {
            let utc = Zone::utc();
            let z = zone.as_ref().unwrap_or(&utc);
            match (&start, &end) {
                (DateOrInstant::Date(a), DateOrInstant::Date(b)) => {
                    local_window(*a, *b)?;
                    let (s, e) = (at("start", &start, z)?, at("end", &end, z)?);
                    Interval::new(s, e).ok_or_else(|| invalid("end", "end must be after start"))?
                }
                _ => window(at("start", &start, z)?, at("end", &end, z)?)?,
            }
        };
        let (w, clipped) = within_budget(&et, asked);
        let now = self.clock.now();
        let inputs = self.load(&et, w, now).await?;
        let zone = zone.unwrap_or_else(|| {
            et.zone(|id| {
                inputs
                    .hosts
                    .iter()
                    .find(|h| h.schedule.id == id)
                    .map(|h| &h.schedule.zone)
            })
        });
        let mut slots = slots::list_slots(&inputs, w);
        slots.truncated |= clipped;
        Ok(SlotListing {
            event_type: et,
            zone,
            now,
            slots,
        })
    }

    /// Decides one start: available (with the slot), or the first reason it is not and, when
    /// busy, the next available start.
    pub async fn check(
        &self,
        org: OrganizationId,
        q: &CheckQuery,
    ) -> Result<SlotVerdict, SlotError> {
        let et = self.event_type(org, &q.event_type).await?;
        let zone = self.query_zone(q.timezone.as_deref(), &et).await?;
        let start = bound("start", &q.start, &zone)?;
        if let Some(end) = &q.end {
            let end = bound("end", end, &zone)?;
            if end <= start {
                return Err(invalid("end", "end must be after start"));
            }
            // A booking lasts exactly the event type's duration: another `end` asks about a
            // slot that cannot exist, so it is refused rather than silently ignored.
            if end.duration_since(start) != et.duration() {
                return Err(invalid(
                    "end",
                    format!(
                        "end must be start + the event type's duration ({} minutes), or omitted",
                        et.duration_minutes
                    ),
                ));
            }
        }
        let now = self.clock.now();
        let one =
            slots::one_instant(start).ok_or_else(|| invalid("start", "start is out of range"))?;
        let inputs = self.load(&et, one, now).await?;
        Ok(match slots::check_slot(&inputs, start) {
            Ok(slot) => SlotVerdict::Available {
                duration_minutes: et.duration_minutes,
                slot,
            },
            Err(UnavailableReason::SlotBusy) => {
                let next_available = match slots::next_available_window(start) {
                    Some(w) => {
                        let inputs = self.load(&et, w, now).await?;
                        slots::next_available(&inputs, start)
                    }
                    None => None,
                };
                SlotVerdict::Unavailable {
                    reason: UnavailableReason::SlotBusy,
                    next_available,
                }
            }
            Err(reason) => SlotVerdict::Unavailable {
                reason,
                next_available: None,
            },
        })
    }

    async fn event_type(
        &self,
        org: OrganizationId,
        key: &EventTypeRef,
    ) -> Result<EventType, SlotError> {
        find_event_type(self.event_types.as_ref(), org, key)
            .await?
            .ok_or(SlotError::EventTypeNotFound)
    }

    /// `timezone` (IANA), else the event type's zone.
    async fn query_zone(&self, timezone: Option<&str>, et: &EventType) -> Result<Zone, SlotError> {
        match named_zone(timezone)? {
            Some(zone) => Ok(zone),
            None => Ok(event_type_zone(self.schedules.as_ref(), et).await?),
        }
    }
}

/// At most this many (candidate start × host) evaluations per listing: a wider request (a
/// 1-minute grid over 31 days for 50 hosts is 2.2 million) is clipped before any data is
/// loaded and answered with `truncated: true`, so the client narrows the range.
pub const CANDIDATE_BUDGET: i64 = 200_000;

/// `window` clipped to [`CANDIDATE_BUDGET`], and whether it was clipped.
fn within_budget(et: &EventType, window: Interval) -> (Interval, bool) {
    let hosts = i64::try_from(et.hosts.len().max(1)).unwrap_or(i64::MAX);
    let step_ms = et.slot_interval().as_millis().max(1) as i64;
    let max_ms = (CANDIDATE_BUDGET / hosts).saturating_mul(step_ms);
    let len_ms = window.end().duration_since(window.start()).as_millis() as i64;
    if len_ms <= max_ms {
        return (window, false);
    }
    let end = window
        .start()
        .checked_add(jiff::SignedDuration::from_millis(max_ms))
        .ok()
        .and_then(|e| Interval::new(window.start(), e));
    match end {
        Some(w) => (w, true),
        None => (window, false),
    }
}

/// The `timezone` parameter (IANA), when given.
fn named_zone(timezone: Option<&str>) -> Result<Option<Zone>, SlotError> {
    timezone
        .map(|name| Zone::parse(name).map_err(|m| invalid("timezone", m)))
        .transpose()
}

/// A bound as written: RFC 3339 date-time or plain date.
fn parse_bound(name: &'static str, v: &str) -> Result<DateOrInstant, SlotError> {
    DateOrInstant::parse(v).map_err(|m| invalid(name, m))
}

/// The instant of a bound: a plain date is local midnight in `zone`.
fn at(name: &'static str, b: &DateOrInstant, zone: &Zone) -> Result<Timestamp, SlotError> {
    b.at_start_of_day(zone)
        .ok_or_else(|| invalid(name, format!("{name} is out of range")))
}

/// A bound: RFC 3339 date-time, or a plain date at local midnight in `zone`.
fn bound(name: &'static str, v: &str, zone: &Zone) -> Result<Timestamp, SlotError> {
    at(name, &parse_bound(name, v)?, zone)
}

/// Two plain dates: end after start, at most 31 local calendar days apart (§6.4.7 — a month
/// across a DST change is allowed although it is 31 days ± 1 hour long).
fn local_window(start: jiff::civil::Date, end: jiff::civil::Date) -> Result<(), SlotError> {
    if end <= start {
        return Err(invalid("end", "end must be after start"));
    }
    let days = start
        .until((jiff::Unit::Day, end))
        .map(|s| s.get_days())
        .unwrap_or(i32::MAX);
    if days > 31 {
        return Err(invalid(
            "end",
            "end must be at most 31 days after start; narrow the range",
        ));
    }
    Ok(())
}

/// Checks the `[start, end)` window: end after start, at most 31 days.
pub fn window(start: Timestamp, end: Timestamp) -> Result<Interval, SlotError> {
    let w = Interval::new(start, end).ok_or_else(|| invalid("end", "end must be after start"))?;
    if end.duration_since(start) > MAX_WINDOW {
        return Err(invalid(
            "end",
            "end must be at most 31 days after start; narrow the range",
        ));
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn param(e: SlotError) -> &'static str {
        match e {
            SlotError::InvalidParam { param, .. } => param,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn windows() {
        assert!(window(t("2026-05-01T00:00:00Z"), t("2026-06-01T00:00:00Z")).is_ok());
        let e = window(t("2026-05-01T00:00:00Z"), t("2026-06-01T00:00:01Z")).unwrap_err();
        assert_eq!(param(e), "end");
        let e = window(t("2026-05-01T00:00:00Z"), t("2026-05-01T00:00:00Z")).unwrap_err();
        assert_eq!(param(e), "end");
    }

    #[test]
    fn plain_date_windows_count_local_days() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert!(local_window(d("2026-10-15"), d("2026-11-15")).is_ok());
        assert_eq!(
            param(local_window(d("2026-10-15"), d("2026-11-16")).unwrap_err()),
            "end"
        );
        assert_eq!(
            param(local_window(d("2026-10-15"), d("2026-10-15")).unwrap_err()),
            "end"
        );
    }

    #[test]
    fn bounds_read_dates_in_the_zone() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            bound("start", "2026-07-01", &ny).unwrap(),
            t("2026-07-01T04:00:00Z")
        );
        assert_eq!(
            bound("end", "2026-07-02T00:00:00Z", &ny).unwrap(),
            t("2026-07-02T00:00:00Z")
        );
        assert_eq!(param(bound("start", "x", &ny).unwrap_err()), "start");
    }
}
