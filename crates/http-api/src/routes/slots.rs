//! `GET /v1/slots` (§3.5, §6.4.7) and `GET /v1/slots/check` (§3.6): both answer from the slot
//! engine in `domain::slots` over inputs loaded by the store, the same function the booking
//! transaction re-decides with.

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection; shrinking it belongs in error.rs"
)]

use crate::error::ApiError;
use crate::extract::{Auth, QueryParams};
use crate::routes::bookings::write::resolve_event_type;
use crate::state::AppState;
use api_types::booking_request::{EventTypeRef, event_type_ref};
use api_types::envelope::{Data, ErrorBody};
use api_types::slots::{SlotCheck, Slots};
use api_types::time::DateOrInstant;
use axum::extract::State;
use axum::response::Response;
use domain::access::Operation;
use domain::availability::Zone;
use domain::event_type::EventType;
use domain::interval::Interval;
use domain::slots::{self, MAX_WINDOW, UnavailableReason};
use jiff::{SignedDuration, Timestamp};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// `/v1/slots` and `/v1/slots/check`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_slots))
        .routes(routes!(check_slot))
}

/// The event type named by `event_type_id` or `username` + `event_slug`.
fn event_type_param(q: &QueryParams) -> Result<EventTypeRef, ApiError> {
    let id = q.parse_opt::<Uuid>("event_type_id", "a UUID")?;
    event_type_ref(id, q.get("username"), q.get("event_slug")).ok_or_else(|| {
        ApiError::query_param(
            "event_type_id",
            "event_type_id, or username and event_slug, is required",
        )
    })
}

/// `timezone` (IANA), else the first host's schedule zone, else UTC.
async fn query_zone(state: &AppState, q: &QueryParams, et: &EventType) -> Result<Zone, ApiError> {
    if let Some(name) = q.get("timezone") {
        return Zone::parse(name).map_err(|m| ApiError::query_param("timezone", m));
    }
    if let Some(h) = et.hosts.first()
        && let Some(s) = state
            .store
            .get_schedule(et.organization_id, h.schedule_id)
            .await?
    {
        return Ok(s.zone);
    }
    Ok(Zone::utc())
}

/// A required or optional bound: RFC 3339 date-time, or a plain date at local midnight.
fn bound(q: &QueryParams, name: &str, zone: &Zone) -> Result<Option<Timestamp>, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    DateOrInstant::parse(v)
        .map_err(|m| ApiError::query_param(name, m))?
        .at_start_of_day(zone)
        .map(Some)
        .ok_or_else(|| ApiError::query_param(name, format!("{name} is out of range")))
}

/// Checks the `[start, end)` window: end after start, at most 31 days.
pub fn window(start: Timestamp, end: Timestamp) -> Result<Interval, ApiError> {
    let w = Interval::new(start, end)
        .ok_or_else(|| ApiError::query_param("end", "end must be after start"))?;
    if end.duration_since(start) > MAX_WINDOW {
        return Err(ApiError::query_param(
            "end",
            "end must be at most 31 days after start; narrow the range",
        ));
    }
    Ok(w)
}

/// Lists bookable slots.
#[utoipa::path(
    get,
    path = "/v1/slots",
    tag = "slots",
    operation_id = "listSlots",
    params(
        ("event_type_id" = Option<Uuid>, Query, description = "The event type, or give username + event_slug"),
        ("username" = Option<String>, Query, description = "Owner's username"),
        ("event_slug" = Option<String>, Query, description = "Event type slug"),
        ("start" = String, Query, description = "Inclusive; ISO 8601 date-time or YYYY-MM-DD (local midnight in timezone)"),
        ("end" = String, Query, description = "Exclusive; at most 31 days after start"),
        ("timezone" = Option<String>, Query, description = "IANA zone for plain dates; default the event type's schedule zone, then UTC"),
    ),
    responses(
        (status = 200, description = "Slots of the window", body = Data<Slots>),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_slots(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::ListSlots)?;
    let r = event_type_param(&q)?;
    q.require("start")?;
    q.require("end")?;
    let et = resolve_event_type(&state, p.organization_id, &r).await?;
    let zone = query_zone(&state, &q, &et).await?;
    let start = bound(&q, "start", &zone)?;
    let end = bound(&q, "end", &zone)?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ApiError::query_param("start", "start and end are required"));
    };
    let w = window(start, end)?;
    let now = state.clock.now();
    let inputs = state.store.slot_inputs(&et, w, now).await?;
    let list = slots::list_slots(&inputs, w);
    Ok(crate::envelope::ok(&Slots::new(
        et.id.0,
        zone.name(),
        now,
        &list,
    )))
}

/// Checks one start.
#[utoipa::path(
    get,
    path = "/v1/slots/check",
    tag = "slots",
    operation_id = "checkSlot",
    params(
        ("event_type_id" = Option<Uuid>, Query, description = "The event type, or give username + event_slug"),
        ("username" = Option<String>, Query, description = "Owner's username"),
        ("event_slug" = Option<String>, Query, description = "Event type slug"),
        ("start" = String, Query, description = "The start to check (ISO 8601)"),
        ("end" = Option<String>, Query, description = "Optional; must be after start (default start + duration)"),
        ("timezone" = Option<String>, Query, description = "IANA zone for plain dates"),
    ),
    responses(
        (status = 200, description = "The verdict", body = Data<SlotCheck>),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn check_slot(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::CheckSlot)?;
    let r = event_type_param(&q)?;
    q.require("start")?;
    let et = resolve_event_type(&state, p.organization_id, &r).await?;
    let zone = query_zone(&state, &q, &et).await?;
    let Some(start) = bound(&q, "start", &zone)? else {
        return Err(ApiError::query_param("start", "start is required"));
    };
    if let Some(end) = bound(&q, "end", &zone)?
        && end <= start
    {
        return Err(ApiError::query_param("end", "end must be after start"));
    }
    let now = state.clock.now();
    let one = start
        .checked_add(SignedDuration::from_millis(1))
        .ok()
        .and_then(|e| Interval::new(start, e))
        .ok_or_else(|| ApiError::query_param("start", "start is out of range"))?;
    let inputs = state.store.slot_inputs(&et, one, now).await?;
    let verdict = match slots::check_slot(&inputs, start) {
        Ok(_) => SlotCheck::available(et.duration_minutes),
        Err(UnavailableReason::SlotBusy) => {
            let next = match slots::next_available_window(start) {
                Some(w) => {
                    let inputs = state.store.slot_inputs(&et, w, now).await?;
                    slots::next_available(&inputs, start)
                }
                None => None,
            };
            SlotCheck::unavailable(UnavailableReason::SlotBusy, next)
        }
        Err(reason) => SlotCheck::unavailable(reason, None),
    };
    Ok(crate::envelope::ok(&verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn windows() {
        assert!(window(t("2026-05-01T00:00:00Z"), t("2026-06-01T00:00:00Z")).is_ok());
        let e = window(t("2026-05-01T00:00:00Z"), t("2026-06-01T00:00:01Z")).unwrap_err();
        assert_eq!(e.details["param"], "end");
        let e = window(t("2026-05-01T00:00:00Z"), t("2026-05-01T00:00:00Z")).unwrap_err();
        assert_eq!(e.details["param"], "end");
    }

    #[test]
    fn event_type_identification() {
        let e = event_type_param(&QueryParams::parse("username=ada")).unwrap_err();
        assert_eq!(
            (e.code, e.details["param"].as_str()),
            ("invalid_query_param", Some("event_type_id"))
        );
        let e = event_type_param(&QueryParams::parse("event_type_id=nope")).unwrap_err();
        assert_eq!(e.details["param"], "event_type_id");
        assert!(event_type_param(&QueryParams::parse("username=ada&event_slug=x")).is_ok());
    }

    #[test]
    fn bounds_read_dates_in_the_zone() {
        let q = QueryParams::parse("start=2026-07-01&end=2026-07-02T00:00:00Z&bad=x");
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            bound(&q, "start", &ny).unwrap().unwrap(),
            t("2026-07-01T04:00:00Z")
        );
        assert_eq!(
            bound(&q, "end", &ny).unwrap().unwrap(),
            t("2026-07-02T00:00:00Z")
        );
        assert_eq!(bound(&q, "bad", &ny).unwrap_err().details["param"], "bad");
        assert_eq!(bound(&q, "missing", &ny).unwrap(), None);
    }
}
