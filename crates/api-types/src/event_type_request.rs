//! Writable event types (§7.1): `POST /v1/event-types` and `PATCH /v1/event-types/{id}`.
//!
//! Hosts arrive as `[{user_id, schedule_id?}]`; resolving them (the user must belong to the
//! organization, the schedule defaults to the user's first) needs the store, so the HTTP layer
//! does it and hands the resolved [`dom::Host`]s to these conversions. Rules on values live in
//! [`dom::EventType::validate`].

use crate::WireFields;
use crate::event_type::EventTypeLocation;
use crate::json::double_option;
use domain::event_type as dom;
use domain::ids::{EventTypeId, OrganizationId, UserId};
use domain::validate::FieldErrors;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Defaults of a new event type.
pub const DEFAULT_COLOR: &str = "#7c3aed";
/// Defaults of a new event type: bookable up to 60 days ahead.
pub const DEFAULT_FUTURE_LIMIT_DAYS: u32 = 60;

/// A host as written: the schedule defaults to the user's first schedule.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostInput {
    pub user_id: Uuid,
    pub schedule_id: Option<Uuid>,
}

/// A question as written; `id` defaults to `key`, `type` to `text`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    pub id: Option<String>,
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub required: Option<bool>,
}

/// `POST /v1/event-types`. Required: `slug`, `title`, `duration_minutes`, `hosts`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateEventTypeRequest {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<u32>,
    /// Defaults to `duration_minutes`.
    pub slot_interval_minutes: Option<u32>,
    /// Default true.
    pub active: Option<bool>,
    /// `individual` (default), `group` or `collective` (round robin).
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostInput>>,
    /// The user whose `username/slug` addresses it; defaults to the first host.
    pub owner_user_id: Option<Uuid>,
    /// Default `#7c3aed`.
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    /// Default 60; `0` means no limit.
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<EventTypeLocation>>,
    pub questions: Option<Vec<QuestionInput>>,
    pub max_bookings_per_day: Option<u32>,
    pub max_bookings_per_week: Option<u32>,
    pub max_bookings_per_month: Option<u32>,
    pub requires_confirmation: Option<bool>,
    /// Default true.
    pub allow_reschedule: Option<bool>,
    /// Default true.
    pub allow_cancel: Option<bool>,
    /// Seats per slot for `group` (default 1).
    pub seats: Option<u32>,
}

impl WireFields for CreateEventTypeRequest {
    const FIELDS: &'static [&'static str] = &[
        "slug",
        "title",
        "description",
        "duration_minutes",
        "slot_interval_minutes",
        "active",
        "scheduling_type",
        "hosts",
        "owner_user_id",
        "color",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "future_limit_days",
        "locations",
        "questions",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "requires_confirmation",
        "allow_reschedule",
        "allow_cancel",
        "seats",
    ];
}

/// Identity and time of a new row, chosen by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NewRow {
    pub id: EventTypeId,
    pub organization_id: OrganizationId,
    pub now: Timestamp,
}

fn scheduling_type(e: &mut FieldErrors, s: Option<&str>) -> Option<dom::SchedulingType> {
    match s {
        None => Some(dom::SchedulingType::Individual),
        Some(s) => {
            let t = dom::SchedulingType::parse(s);
            if t.is_none() {
                e.push("scheduling_type", "must be individual, group or collective");
            }
            t
        }
    }
}

fn locations(v: Vec<EventTypeLocation>) -> Vec<dom::Location> {
    v.into_iter()
        .map(|l| dom::Location {
            kind: l.kind,
            label: l.label,
            value: l.value,
        })
        .collect()
}

fn questions(v: Vec<QuestionInput>) -> Vec<dom::Question> {
    v.into_iter()
        .map(|q| dom::Question {
            id: q.id.unwrap_or_else(|| q.key.clone()),
            key: q.key,
            label: q.label,
            kind: q.kind.unwrap_or_else(|| "text".into()),
            required: q.required.unwrap_or(false),
        })
        .collect()
}

impl CreateEventTypeRequest {
    /// The host list as written, or a 422 naming `hosts` when absent.
    pub fn host_inputs(&self) -> Result<&[HostInput], FieldErrors> {
        match &self.hosts {
            Some(h) => Ok(h),
            None => {
                let mut e = FieldErrors::default();
                e.push("hosts", "is required");
                Err(e)
            }
        }
    }

    /// The owner: `owner_user_id`, else the first host.
    pub fn owner(&self) -> Option<UserId> {
        self.owner_user_id
            .or_else(|| self.hosts.as_ref()?.first().map(|h| h.user_id))
            .map(UserId)
    }

    /// Builds the event type (not yet validated: call [`dom::EventType::validate`]).
    pub fn into_domain(
        self,
        row: NewRow,
        owner: UserId,
        hosts: Vec<dom::Host>,
    ) -> Result<dom::EventType, FieldErrors> {
        let mut e = FieldErrors::default();
        let slug = self.slug.unwrap_or_else(|| {
            e.push("slug", "is required");
            String::new()
        });
        let title = self.title.unwrap_or_else(|| {
            e.push("title", "is required");
            String::new()
        });
        let duration = self.duration_minutes.unwrap_or_else(|| {
            e.push("duration_minutes", "is required");
            0
        });
        let kind = scheduling_type(&mut e, self.scheduling_type.as_deref());
        e.finish(())?;
        Ok(dom::EventType {
            id: row.id,
            organization_id: row.organization_id,
            owner_user_id: owner,
            slug,
            title,
            description: self.description,
            duration_minutes: duration,
            slot_interval_minutes: self.slot_interval_minutes.unwrap_or(duration),
            active: self.active.unwrap_or(true),
            scheduling_type: kind.unwrap_or(dom::SchedulingType::Individual),
            hosts,
            color: self.color.unwrap_or_else(|| DEFAULT_COLOR.into()),
            buffer_before_minutes: self.buffer_before_minutes.unwrap_or(0),
            buffer_after_minutes: self.buffer_after_minutes.unwrap_or(0),
            minimum_notice_hours: self.minimum_notice_hours.unwrap_or(0),
            future_limit_days: self.future_limit_days.unwrap_or(DEFAULT_FUTURE_LIMIT_DAYS),
            limits: dom::BookingLimits {
                per_day: self.max_bookings_per_day,
                per_week: self.max_bookings_per_week,
                per_month: self.max_bookings_per_month,
            },
            seats: self.seats.unwrap_or(1),
            requires_confirmation: self.requires_confirmation.unwrap_or(false),
            allow_reschedule: self.allow_reschedule.unwrap_or(true),
            allow_cancel: self.allow_cancel.unwrap_or(true),
            locations: locations(self.locations.unwrap_or_default()),
            questions: questions(self.questions.unwrap_or_default()),
            version: 1,
            created_at: row.now,
            updated_at: row.now,
        })
    }
}

/// `PATCH /v1/event-types/{id}`: any subset of the writable fields; nullable ones accept
/// `null` to clear.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PatchEventTypeRequest {
    pub slug: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub duration_minutes: Option<u32>,
    pub slot_interval_minutes: Option<u32>,
    pub active: Option<bool>,
    pub scheduling_type: Option<String>,
    pub hosts: Option<Vec<HostInput>>,
    pub color: Option<String>,
    pub buffer_before_minutes: Option<u32>,
    pub buffer_after_minutes: Option<u32>,
    pub minimum_notice_hours: Option<u32>,
    pub future_limit_days: Option<u32>,
    pub locations: Option<Vec<EventTypeLocation>>,
    pub questions: Option<Vec<QuestionInput>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_day: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_week: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub max_bookings_per_month: Option<Option<u32>>,
    pub requires_confirmation: Option<bool>,
    pub allow_reschedule: Option<bool>,
    pub allow_cancel: Option<bool>,
    pub seats: Option<u32>,
}

impl WireFields for PatchEventTypeRequest {
    const FIELDS: &'static [&'static str] = &[
        "slug",
        "title",
        "description",
        "duration_minutes",
        "slot_interval_minutes",
        "active",
        "scheduling_type",
        "hosts",
        "color",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "future_limit_days",
        "locations",
        "questions",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "requires_confirmation",
        "allow_reschedule",
        "allow_cancel",
        "seats",
    ];
}

impl PatchEventTypeRequest {
    /// Applies the written fields to `et` (hosts already resolved by the caller when written),
    /// bumps the version and touches `updated_at`. Validate the result afterwards.
    pub fn apply(
        self,
        et: &mut dom::EventType,
        hosts: Option<Vec<dom::Host>>,
        now: Timestamp,
    ) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if let Some(s) = self.scheduling_type.as_deref()
            && let Some(k) = scheduling_type(&mut e, Some(s))
        {
            et.scheduling_type = k;
        }
        e.finish(())?;
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { et.$field = v; } )* };
        }
        set!(
            slug,
            title,
            description,
            duration_minutes,
            slot_interval_minutes,
            active,
            color,
            buffer_before_minutes,
            buffer_after_minutes,
            minimum_notice_hours,
            future_limit_days,
            requires_confirmation,
            allow_reschedule,
            allow_cancel,
            seats
        );
        if let Some(h) = hosts {
            et.hosts = h;
        }
        if let Some(v) = self.max_bookings_per_day {
            et.limits.per_day = v;
        }
        if let Some(v) = self.max_bookings_per_week {
            et.limits.per_week = v;
        }
        if let Some(v) = self.max_bookings_per_month {
            et.limits.per_month = v;
        }
        if let Some(l) = self.locations {
            et.locations = locations(l);
        }
        if let Some(q) = self.questions {
            et.questions = questions(q);
        }
        et.version += 1;
        et.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_type::tests::event_type;
    use serde_json::json;

    #[test]
    fn create_applies_defaults_and_requires_fields() {
        let r: CreateEventTypeRequest = serde_json::from_value(json!({
            "slug": "intro", "title": "Intro", "duration_minutes": 45,
            "hosts": [{"user_id": Uuid::from_u128(7)}],
            "questions": [{"key": "company", "label": "Company"}]
        }))
        .unwrap();
        assert_eq!(r.owner(), Some(UserId(Uuid::from_u128(7))));
        let row = NewRow {
            id: EventTypeId(Uuid::from_u128(1)),
            organization_id: OrganizationId(Uuid::from_u128(2)),
            now: Timestamp::UNIX_EPOCH,
        };
        let et = r
            .into_domain(row, UserId(Uuid::from_u128(7)), vec![])
            .unwrap();
        assert_eq!(et.slot_interval_minutes, 45);
        assert_eq!(et.color, DEFAULT_COLOR);
        assert_eq!(et.version, 1);
        assert!(et.active && et.allow_cancel && et.allow_reschedule);
        assert_eq!(et.questions[0].id, "company");
        assert_eq!(et.questions[0].kind, "text");

        let bad: CreateEventTypeRequest =
            serde_json::from_value(json!({"scheduling_type": "solo"})).unwrap();
        assert!(bad.host_inputs().is_err());
        let e = bad
            .into_domain(row, UserId(Uuid::nil()), vec![])
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["slug", "title", "duration_minutes", "scheduling_type"]
        );
    }

    #[test]
    fn patch_distinguishes_null_from_absent() {
        let mut et = event_type();
        et.description = Some("old".into());
        let p: PatchEventTypeRequest = serde_json::from_value(json!({
            "description": null, "title": "New", "max_bookings_per_week": 3
        }))
        .unwrap();
        p.apply(&mut et, None, "2026-01-01T00:00:00Z".parse().unwrap())
            .unwrap();
        assert_eq!(et.description, None);
        assert_eq!(et.title, "New");
        assert_eq!(et.limits.per_day, Some(4));
        assert_eq!(et.limits.per_week, Some(3));
        assert_eq!(et.version, 3);
        let nested: Result<PatchEventTypeRequest, _> =
            serde_json::from_value(json!({"hosts": [{"user_id": Uuid::nil(), "x": 1}]}));
        assert!(nested.is_err());
    }
}
