//! `GET /v1/slots` (§3.5, §6.4.7) and `GET /v1/slots/check` (§3.6): parse the query, call
//! [`domain::slot_service::SlotService`] (the slot engine the booking transaction re-decides
//! with) and render.

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection; shrinking it belongs in error.rs"
)]

use crate::error::ApiError;
use crate::extract::{Auth, QueryParams};
use crate::state::AppState;
use api_types::booking_request::{EventTypeRef, event_type_ref};
use api_types::envelope::{Data, ErrorBody};
use api_types::slots::{SlotCheck, Slots};
use axum::extract::State;
use axum::response::Response;
use domain::access::Operation;
use domain::slot_service::{CheckQuery, SlotError, SlotQuery, SlotVerdict};
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

impl From<SlotError> for ApiError {
    fn from(e: SlotError) -> Self {
        match e {
            SlotError::EventTypeNotFound => crate::routes::event_types::not_found(),
            SlotError::InvalidParam { param, message } => ApiError::query_param(param, message),
            SlotError::Unknown(e) => ApiError::internal(e),
        }
    }
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
    let event_type = event_type_param(&q)?;
    let query = SlotQuery {
        event_type,
        start: q.require("start")?.to_owned(),
        end: q.require("end")?.to_owned(),
        timezone: q.get("timezone").map(str::to_owned),
    };
    let l = state.services.slots.list(p.organization_id, &query).await?;
    let body = Slots::new(l.event_type.id.0, l.zone.name(), l.now, &l.slots);
    Ok(crate::envelope::ok_written(|out| body.write_json(out)))
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
    let event_type = event_type_param(&q)?;
    let query = CheckQuery {
        event_type,
        start: q.require("start")?.to_owned(),
        end: q.get("end").map(str::to_owned),
        timezone: q.get("timezone").map(str::to_owned),
    };
    let verdict = match state
        .services
        .slots
        .check(p.organization_id, &query)
        .await?
    {
        SlotVerdict::Available {
            duration_minutes, ..
        } => SlotCheck::available(duration_minutes),
        SlotVerdict::Unavailable {
            reason,
            next_available,
        } => SlotCheck::unavailable(reason, next_available),
    };
    Ok(crate::envelope::ok(&verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
