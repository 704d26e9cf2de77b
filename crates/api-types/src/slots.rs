//! `GET /v1/slots` (§3.5) and `GET /v1/slots/check` (§3.6) responses.

use crate::time::{WireTime, ts};
use domain::slots::{Slot as DomSlot, SlotList, UnavailableReason};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One bookable start.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Slot {
    #[schema(value_type = String, format = DateTime)]
    pub start: WireTime,
    #[schema(value_type = String, format = DateTime)]
    pub end: WireTime,
    /// Always true: busy times are omitted.
    pub available: bool,
    /// Round robin (`collective`) only: the member who would be assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_user_id: Option<Uuid>,
    /// Addition, group events only: seats left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats_remaining: Option<u32>,
}

impl Slot {
    pub fn from_domain(s: &DomSlot) -> Self {
        Self {
            start: WireTime(s.start),
            end: WireTime(s.end),
            available: true,
            host_user_id: s.host_user_id.map(|h| h.0),
            seats_remaining: s.seats_remaining,
        }
    }
}

/// The slots of a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Slots {
    pub event_type_id: Uuid,
    /// The zone the window's plain dates were read in.
    pub timezone: String,
    #[schema(format = DateTime)]
    pub computed_at: String,
    pub slots: Vec<Slot>,
    /// Present (and true) only when more slots existed than were returned; narrow the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

impl Slots {
    pub fn new(
        event_type_id: Uuid,
        timezone: &str,
        computed_at: Timestamp,
        list: &SlotList,
    ) -> Self {
        Self {
            event_type_id,
            timezone: timezone.to_owned(),
            computed_at: ts(computed_at),
            slots: list.slots.iter().map(Slot::from_domain).collect(),
            truncated: list.truncated.then_some(true),
        }
    }
}

/// The verdict on one start.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SlotCheck {
    Available {
        /// Always true here.
        available: bool,
        duration_minutes: u32,
    },
    Unavailable {
        /// Always false here.
        available: bool,
        /// `event_type_inactive`, `in_past`, `outside_minimum_notice`, `outside_future_limit`
        /// or `slot_busy`.
        reason: String,
        /// The earliest listed start after the requested one within 31 days (`slot_busy`
        /// only; else null).
        #[schema(format = DateTime)]
        next_available: Option<String>,
    },
}

impl SlotCheck {
    pub fn available(duration_minutes: u32) -> Self {
        Self::Available {
            available: true,
            duration_minutes,
        }
    }

    pub fn unavailable(reason: UnavailableReason, next: Option<Timestamp>) -> Self {
        Self::Unavailable {
            available: false,
            reason: reason.as_str().to_owned(),
            next_available: next.map(ts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_slot_fields_are_absent_not_null() {
        let t: Timestamp = "2026-05-20T10:00:00Z".parse().unwrap();
        let list = SlotList {
            slots: vec![DomSlot {
                start: t,
                end: t,
                host_user_id: None,
                seats_remaining: None,
            }],
            truncated: false,
        };
        let v = serde_json::to_value(Slots::new(Uuid::nil(), "UTC", t, &list)).unwrap();
        assert_eq!(
            v,
            json!({"event_type_id": Uuid::nil(), "timezone": "UTC",
                   "computed_at": "2026-05-20T10:00:00.000Z",
                   "slots": [{"start": "2026-05-20T10:00:00.000Z",
                              "end": "2026-05-20T10:00:00.000Z", "available": true}]})
        );
        let truncated = SlotList {
            slots: vec![],
            truncated: true,
        };
        let v = serde_json::to_value(Slots::new(Uuid::nil(), "UTC", t, &truncated)).unwrap();
        assert_eq!(v["truncated"], true);
    }

    #[test]
    fn check_shapes() {
        assert_eq!(
            serde_json::to_value(SlotCheck::available(30)).unwrap(),
            json!({"available": true, "duration_minutes": 30})
        );
        assert_eq!(
            serde_json::to_value(SlotCheck::unavailable(UnavailableReason::InPast, None)).unwrap(),
            json!({"available": false, "reason": "in_past", "next_available": null})
        );
    }
}
