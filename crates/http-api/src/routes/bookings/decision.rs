//! `POST /v1/bookings/{uid}/confirm` and `…/decline` (Slotbook addition, ARCHITECTURE.md
//! Decisions): the host's answer to a `pending` booking of an event type with
//! `requires_confirmation`. Scope `bookings:update`, `Idempotency-Key` required like every
//! booking write; one [`BookingService::decide_booking`] call.
//!
//! [`BookingService::decide_booking`]: domain::booking_service::BookingService::decide_booking

use super::not_found;
use super::write::{Render, idempotent, lock_timeout};
use crate::error::ApiError;
use crate::extract::{Auth, parse_body};
use crate::routes::support::{RawBody, path_id};
use crate::state::AppState;
use api_types::booking::Booking as BookingDto;
use api_types::booking_request::{ConfirmRequest, DeclineRequest};
use api_types::envelope::{Data, ErrorBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use domain::access::{Operation, Principal};
use domain::booking_service::{Cancellation, DecideBookingError, HostDecision};
use domain::ids::BookingUid;
use serde_json::json;

/// Confirms a pending booking (`pending` → `confirmed`; a confirmed one is returned as it is).
#[utoipa::path(
    post,
    path = "/v1/bookings/{uid}/confirm",
    tag = "bookings",
    operation_id = "confirmBooking",
    params(
        ("uid" = String, Path, description = "The booking's UUID"),
        ("Idempotency-Key" = String, Header, description = "Required"),
    ),
    request_body(content = Option<ConfirmRequest>, description = "Optional; no fields"),
    responses(
        (status = 200, description = "The booking, confirmed", body = Data<BookingDto>),
        (status = 400, description = "missing_idempotency_key, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "conflict (the booking is not pending), idempotency_key_conflict, idempotency_in_progress", body = ErrorBody),
        (status = 415, description = "invalid_request (body not JSON)", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "slot_lock_timeout", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn confirm_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::UpdateBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let (ConfirmRequest {}, raw) = parse_body::<ConfirmRequest>(&bytes)?;
    decide(&state, p, uid, HostDecision::Confirm, &uri, &headers, &raw).await
}

/// Declines a pending booking (`pending` → `canceled` with the reason; frees the time).
#[utoipa::path(
    post,
    path = "/v1/bookings/{uid}/decline",
    tag = "bookings",
    operation_id = "declineBooking",
    params(
        ("uid" = String, Path, description = "The booking's UUID"),
        ("Idempotency-Key" = String, Header, description = "Required"),
    ),
    request_body(content = Option<DeclineRequest>, description = "Optional"),
    responses(
        (status = 200, description = "The booking, canceled", body = Data<BookingDto>),
        (status = 400, description = "missing_idempotency_key, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "conflict (the booking is not pending), idempotency_key_conflict, idempotency_in_progress", body = ErrorBody),
        (status = 415, description = "invalid_request (body not JSON)", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "slot_lock_timeout", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn decline_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::UpdateBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let (req, raw) = parse_body::<DeclineRequest>(&bytes)?;
    let decision = HostDecision::Decline(Cancellation::new(req.reason)?);
    decide(&state, p, uid, decision, &uri, &headers, &raw).await
}

/// The shared tail of both handlers: one idempotent [`BookingService::decide_booking`] call.
///
/// [`BookingService::decide_booking`]: domain::booking_service::BookingService::decide_booking
async fn decide(
    state: &AppState,
    p: &Principal,
    uid: BookingUid,
    decision: HostDecision,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &serde_json::Value,
) -> Result<Response, ApiError> {
    let org = p.organization_id;
    idempotent(state, p, headers, "POST", uri.path(), raw, async |g| {
        Render::OK
            .write(g, async |idem| {
                state
                    .bookings
                    .decide_booking(org, uid, decision, idem)
                    .await
            })
            .await
    })
    .await
}

impl From<DecideBookingError> for ApiError {
    fn from(e: DecideBookingError) -> Self {
        match e {
            DecideBookingError::NotFound => not_found(),
            DecideBookingError::NotPending { status } => ApiError::conflict(
                "conflict",
                format!(
                    "This booking is {}, not pending; only a pending booking can be confirmed or declined",
                    status.as_str()
                ),
            )
            .with_details(json!({ "status": status.as_str() })),
            DecideBookingError::LockTimeout => lock_timeout(),
            DecideBookingError::Conflict => {
                ApiError::conflict("conflict", "The booking changed concurrently; retry")
            }
            DecideBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}
