//! `GET /v1/slots` (§3.5) and `GET /v1/slots/check` (§3.6) responses.

use crate::time::{InstantWriter, WireTime, ts};
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

    /// Appends exactly the JSON `serde_json` writes for `self` (the tests compare both on many
    /// lists). Written by hand because `GET /v1/slots` answers with thousands of slots and the
    /// generic serializer (escaping scans, per-field dispatch) was 40 % of the request's CPU
    /// (BENCHMARKS.md, issue 18 item 3). The only strings that could need escaping, the zone
    /// name and `computed_at`, still go through `serde_json`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut uuid = Uuid::encode_buffer();
        out.reserve(160 + self.slots.len() * 112);
        out.extend_from_slice(b"{\"event_type_id\":\"");
        out.extend_from_slice(
            self.event_type_id
                .hyphenated()
                .encode_lower(&mut uuid)
                .as_bytes(),
        );
        out.extend_from_slice(b"\",\"timezone\":");
        json_str(out, &self.timezone);
        out.extend_from_slice(b",\"computed_at\":");
        json_str(out, &self.computed_at);
        out.extend_from_slice(b",\"slots\":[");
        let mut instants = InstantWriter::default();
        for (i, slot) in self.slots.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match (instants.bytes(slot.start.0), instants.bytes(slot.end.0)) {
                // The common case as one copy: `{"start":"…","end":"…"`.
                (Some(start), Some(end)) => {
                    let mut b = *b"{\"start\":\"........................\",\"end\":\"........................\"";
                    b[10..34].copy_from_slice(&start);
                    b[43..67].copy_from_slice(&end);
                    out.extend_from_slice(&b);
                }
                _ => {
                    out.extend_from_slice(b"{\"start\":");
                    instants.write_json(slot.start.0, out);
                    out.extend_from_slice(b",\"end\":");
                    instants.write_json(slot.end.0, out);
                }
            }
            out.extend_from_slice(if slot.available {
                b",\"available\":true"
            } else {
                b",\"available\":false"
            });
            if let Some(h) = slot.host_user_id {
                out.extend_from_slice(b",\"host_user_id\":\"");
                out.extend_from_slice(h.hyphenated().encode_lower(&mut uuid).as_bytes());
                out.push(b'"');
            }
            if let Some(n) = slot.seats_remaining {
                out.extend_from_slice(b",\"seats_remaining\":");
                out.extend_from_slice(n.to_string().as_bytes());
            }
            out.push(b'}');
        }
        out.push(b']');
        match self.truncated {
            Some(true) => out.extend_from_slice(b",\"truncated\":true"),
            Some(false) => out.extend_from_slice(b",\"truncated\":false"),
            None => {}
        }
        out.push(b'}');
    }
}

/// Appends `s` as a JSON string, escaped by `serde_json`.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail, and a &str always serializes.
    let _ = serde_json::to_writer(&mut *out, s);
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
    fn write_json_is_what_serde_writes() {
        let t: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let host = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let slot = |i: i64, host_user_id, seats_remaining| DomSlot {
            start: t + jiff::SignedDuration::from_mins(15 * i),
            end: t + jiff::SignedDuration::from_mins(15 * i + 30),
            host_user_id,
            seats_remaining,
        };
        let lists = [
            (vec![], false),
            (vec![slot(0, None, None)], false),
            (
                (0..500)
                    .map(|i| slot(i, Some(domain::ids::UserId(host)), None))
                    .collect(),
                true,
            ),
            (
                (0..7)
                    .map(|i| slot(i, None, Some(i as u32 * 1000)))
                    .collect(),
                false,
            ),
            (
                vec![slot(-40_000_000, Some(domain::ids::UserId(host)), Some(0))],
                true,
            ),
            // Years outside 0000–9999 take the reference formatting, one bound or both.
            (
                vec![
                    // -0001-12-31T23:45Z to 0000-01-01T00:15Z: the start only.
                    slot(-71_046_627, None, None),
                    slot(-71_100_000, None, None),
                    slot(0, None, None),
                ],
                false,
            ),
        ];
        for (slots, truncated) in lists {
            let list = SlotList { slots, truncated };
            for zone in [
                "UTC",
                "America/Argentina/Buenos_Aires",
                "Etc/GMT+5",
                "odd \"zone\"\\",
            ] {
                let body = Slots::new(Uuid::from_u128(7), zone, t, &list);
                let mut mine = Vec::new();
                body.write_json(&mut mine);
                assert_eq!(
                    String::from_utf8(mine).unwrap(),
                    serde_json::to_string(&body).unwrap(),
                    "{zone}, {} slots",
                    list.slots.len()
                );
            }
        }
        let mut body = Slots::new(Uuid::nil(), "UTC", t, &SlotList::default());
        body.slots.push(Slot {
            available: false,
            ..Slot::from_domain(&slot(1, None, None))
        });
        body.truncated = Some(false);
        let mut mine = Vec::new();
        body.write_json(&mut mine);
        assert_eq!(mine, serde_json::to_vec(&body).unwrap());
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
