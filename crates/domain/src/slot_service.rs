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
        let zone = self.query_zone(q.timezone.as_deref(), &et).await?;
        let start = bound("start", &q.start, &zone)?;
        let end = bound("end", &q.end, &zone)?;
        let w = window(start, end)?;
        let now = self.clock.now();
        let inputs = self.load(&et, w, now).await?;
        let slots = slots::list_slots(&inputs, w);
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
        if let Some(end) = &q.end
            && bound("end", end, &zone)? <= start
        {
            return Err(invalid("end", "end must be after start"));
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
        if let Some(name) = timezone {
            return Zone::parse(name).map_err(|m| invalid("timezone", m));
        }
        Ok(event_type_zone(self.schedules.as_ref(), et).await?)
    }
}

/// A bound: RFC 3339 date-time, or a plain date at local midnight in `zone`.
fn bound(name: &'static str, v: &str, zone: &Zone) -> Result<Timestamp, SlotError> {
    DateOrInstant::parse(v)
        .map_err(|m| invalid(name, m))?
        .at_start_of_day(zone)
        .ok_or_else(|| invalid(name, format!("{name} is out of range")))
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
