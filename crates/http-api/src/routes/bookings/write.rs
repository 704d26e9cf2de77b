//! The four booking writes. Each one: scope check, body parse, `Idempotency-Key` reservation
//! (replays return the stored response), then one [`BookingService`] call, which stores the
//! response rendered by the same renderer that renders the live one. Any failure releases the
//! key. Domain errors become API errors through the `From` impls at the end of this module.
//!
//! [`BookingService`]: domain::booking_service::BookingService

use super::not_found;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Auth, parse_body};
use crate::idempotency::{self, IdemGuard, IdemStart, replay_record};
use crate::routes::support::{RawBody, if_match, path_id, with_etag};
use crate::state::AppState;
use api_types::booking::Booking as BookingDto;
use api_types::booking_request::{
    CancelRequest, CreateBookingRequest, PatchBookingRequest, RescheduleRequest,
    immutable_fields_in,
};
use api_types::envelope::{Data, ErrorBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use domain::access::{Operation, Principal};
use domain::booking::{Booking, CancelRuleError, RescheduleRuleError};
use domain::booking_service::{
    CancelBookingError, Cancellation, CreateBookingError, HostedBooking, Idempotent, InputCode,
    InvalidInput, Reschedule, RescheduleBookingError, UpdateBookingError,
};
use domain::ids::{BookingUid, OrganizationId};
use domain::organization::User;
use domain::slots::UnavailableReason;
use serde_json::{Value, json};

/// Renders a booking the way every write answers: the envelope, the status and `ETag`.
#[derive(Clone, Copy)]
pub(super) struct Render {
    status: StatusCode,
}

impl Render {
    const CREATED: Self = Self {
        status: StatusCode::CREATED,
    };
    pub(super) const OK: Self = Self {
        status: StatusCode::OK,
    };

    fn stored(self, b: &Booking, host: Option<&User>) -> domain::ports::ReplayRecord {
        let dto = BookingDto::from_domain(b, host, true);
        replay_record(self.status, Some(b.version), &envelope::data_value(&dto))
    }

    fn live(self, h: &HostedBooking) -> Response {
        let dto = BookingDto::from_domain(&h.booking, h.host.as_ref(), true);
        with_etag(envelope::data(self.status, &dto), h.booking.version)
    }

    /// Runs `write` with this renderer as the idempotent replay record for `guard`'s key.
    pub(super) async fn write<E>(
        self,
        guard: &IdemGuard,
        write: impl AsyncFnOnce(Option<Idempotent<'_>>) -> Result<HostedBooking, E>,
    ) -> Result<Response, ApiError>
    where
        ApiError: From<E>,
    {
        let respond = move |b: &Booking, host: Option<&User>| self.stored(b, host);
        let idem = Idempotent {
            key: guard.key(),
            respond: &respond,
        };
        let h = write(Some(idem)).await?;
        Ok(self.live(&h))
    }
}

/// Runs a write under the request's `Idempotency-Key`: a replay returns the stored response;
/// otherwise `run` executes under the reservation, and a failed attempt releases it for retries
/// (a cancelled one releases it when the guard drops).
pub(super) async fn idempotent(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    raw: &Value,
    run: impl AsyncFnOnce(&IdemGuard) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let guard = match idempotency::begin(state, p, headers, method, path, raw).await? {
        IdemStart::Replay(r) => return Ok(r),
        IdemStart::Fresh(g) => g,
    };
    let result = run(&guard).await;
    match &result {
        Ok(_) => guard.done(),
        Err(_) => guard.release().await,
    }
    result
}

fn slot_unavailable(reason: UnavailableReason) -> ApiError {
    ApiError::conflict("slot_unavailable", "That time is no longer available")
        .with_details(json!({ "reason": reason.as_str() }))
}

pub(super) fn lock_timeout() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "slot_lock_timeout",
        "Could not take the slot lock in time; retry with the same Idempotency-Key",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// 422 with every failing field in `details.fields`; the code is `validation_error` or the
/// specific attendee code the domain chose, whose field leads the message.
impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        let code = match e.code {
            InputCode::Validation => return ApiError::validation(&e.fields),
            InputCode::AttendeeEmailInvalid => "attendee_email_invalid",
            InputCode::AttendeePhoneRequired => "attendee_phone_required",
            InputCode::AttendeePhoneInvalid => "attendee_phone_invalid",
        };
        let message = e
            .specific_message()
            .map(|(field, m)| format!("{field} {m}"))
            .unwrap_or_else(|| "Request failed validation".into());
        let mut api = ApiError::validation(&e.fields);
        api.code = code;
        api.message = message;
        api
    }
}

fn event_type_inactive() -> ApiError {
    ApiError::conflict("event_type_inactive", "This event type is not active")
}

fn slot_in_past() -> ApiError {
    ApiError::conflict("slot_in_past", "That time is in the past")
}

/// Creates a booking.
#[utoipa::path(
    post,
    path = "/v1/bookings",
    tag = "bookings",
    operation_id = "createBooking",
    params(("Idempotency-Key" = String, Header, description = "Required; ≤ 255 characters, e.g. a UUID")),
    request_body = CreateBookingRequest,
    responses(
        (status = 201, description = "The new booking (version 1)", body = Data<BookingDto>,
            headers(("ETag" = String, description = "Quoted version"))),
        (status = 400, description = "missing_idempotency_key, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 409, description = "slot_unavailable, slot_in_past, event_type_inactive, idempotency_key_conflict, idempotency_in_progress", body = ErrorBody),
        (status = 422, description = "validation_error, attendee_email_invalid, attendee_phone_required, attendee_phone_invalid", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "slot_lock_timeout (Retry-After: 1)", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn create_booking(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::CreateBooking)?;
    let (req, raw) = parse_body::<CreateBookingRequest>(&bytes)?;
    let state = &state;
    idempotent(state, p, &headers, "POST", uri.path(), &raw, async |g| {
        create(state, p, req, g).await
    })
    .await
}

async fn create(
    state: &AppState,
    p: &Principal,
    req: CreateBookingRequest,
    guard: &IdemGuard,
) -> Result<Response, ApiError> {
    let org = p.organization_id;
    let draft = req.into_draft();
    Render::CREATED
        .write(guard, async |idem| {
            state.bookings.create(org, draft, idem).await
        })
        .await
}

/// Updates `metadata`, `responses` or `attendee_name`.
#[utoipa::path(
    patch,
    path = "/v1/bookings/{uid}",
    tag = "bookings",
    operation_id = "updateBooking",
    params(
        ("uid" = String, Path, description = "The booking's UUID"),
        ("Idempotency-Key" = String, Header, description = "Required"),
        ("If-Match" = String, Header, description = "Required: the ETag, \"3\" or W/\"3\""),
    ),
    request_body = PatchBookingRequest,
    responses(
        (status = 200, description = "The updated booking", body = Data<BookingDto>,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "invalid_if_match, missing_idempotency_key, invalid_request (no body)", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "version_conflict", body = ErrorBody),
        (status = 422, description = "field_immutable, validation_error", body = ErrorBody),
        (status = 428, description = "missing_if_match", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn update_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::UpdateBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let expected = if_match(&headers)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "PATCH needs a JSON body with at least one of metadata, responses, attendee_name",
        ));
    }
    if let Ok(raw) = serde_json::from_slice::<Value>(&bytes) {
        let immutable = immutable_fields_in(&raw);
        if !immutable.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "field_immutable",
                format!(
                    "These fields cannot be changed with PATCH: {}",
                    immutable.join(", ")
                ),
            )
            .with_details(json!({ "fields": immutable })));
        }
    }
    let (req, raw) = parse_body::<PatchBookingRequest>(&bytes)?;
    let state = &state;
    idempotent(state, p, &headers, "PATCH", uri.path(), &raw, async |g| {
        update(state, p.organization_id, uid, req, expected, g).await
    })
    .await
}

async fn update(
    state: &AppState,
    org: OrganizationId,
    uid: BookingUid,
    req: PatchBookingRequest,
    expected: i64,
    guard: &IdemGuard,
) -> Result<Response, ApiError> {
    let draft = req.into_draft();
    Render::OK
        .write(guard, async |idem| {
            state
                .bookings
                .update_booking(org, uid, draft, expected, idem)
                .await
        })
        .await
}

/// Cancels a booking (idempotent: an already canceled booking, and one that was since
/// rescheduled, is returned as it is).
#[utoipa::path(
    post,
    path = "/v1/bookings/{uid}/cancel",
    tag = "bookings",
    operation_id = "cancelBooking",
    params(
        ("uid" = String, Path, description = "The booking's UUID"),
        ("Idempotency-Key" = String, Header, description = "Required"),
    ),
    request_body(content = Option<CancelRequest>, description = "Optional"),
    responses(
        (status = 200, description = "The booking, canceled", body = Data<BookingDto>),
        (status = 400, description = "missing_idempotency_key", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope, forbidden (event type disallows cancelling)", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "conflict (the booking changed concurrently)", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "slot_lock_timeout", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn cancel_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::CancelBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let (req, raw) = parse_body::<CancelRequest>(&bytes)?;
    let state = &state;
    idempotent(state, p, &headers, "POST", uri.path(), &raw, async |g| {
        cancel(state, p.organization_id, uid, req, g).await
    })
    .await
}

async fn cancel(
    state: &AppState,
    org: OrganizationId,
    uid: BookingUid,
    req: CancelRequest,
    guard: &IdemGuard,
) -> Result<Response, ApiError> {
    let cancellation = Cancellation::new(req.reason)?;
    Render::OK
        .write(guard, async |idem| {
            state
                .bookings
                .cancel_booking(org, uid, cancellation, idem)
                .await
        })
        .await
}

/// Moves a booking: returns the NEW booking (new uid, `rescheduled_from_uid` = old uid).
#[utoipa::path(
    post,
    path = "/v1/bookings/{uid}/reschedule",
    tag = "bookings",
    operation_id = "rescheduleBooking",
    params(
        ("uid" = String, Path, description = "The booking's UUID"),
        ("Idempotency-Key" = String, Header, description = "Required"),
    ),
    request_body = RescheduleRequest,
    responses(
        (status = 200, description = "The new booking", body = Data<BookingDto>),
        (status = 400, description = "missing_idempotency_key", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "slot_unavailable, slot_in_past, booking_in_past, booking_already_cancelled, event_type_inactive, conflict", body = ErrorBody),
        (status = 422, description = "validation_error, event_type_disallows_reschedule", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "slot_lock_timeout (Retry-After: 1)", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn reschedule_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::RescheduleBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let (req, raw) = parse_body::<RescheduleRequest>(&bytes)?;
    let state = &state;
    idempotent(state, p, &headers, "POST", uri.path(), &raw, async |g| {
        reschedule(state, p.organization_id, uid, req, g).await
    })
    .await
}

async fn reschedule(
    state: &AppState,
    org: OrganizationId,
    uid: BookingUid,
    req: RescheduleRequest,
    guard: &IdemGuard,
) -> Result<Response, ApiError> {
    let to = Reschedule::new(req.into_draft())?;
    Render::OK
        .write(guard, async |idem| {
            state.bookings.reschedule_booking(org, uid, to, idem).await
        })
        .await
}

impl From<CreateBookingError> for ApiError {
    fn from(e: CreateBookingError) -> Self {
        match e {
            CreateBookingError::Invalid(e) => e.into(),
            CreateBookingError::EventTypeNotFound => crate::routes::event_types::not_found(),
            CreateBookingError::EventTypeInactive => event_type_inactive(),
            CreateBookingError::SlotInPast => slot_in_past(),
            CreateBookingError::SlotUnavailable { reason } => slot_unavailable(reason),
            CreateBookingError::LockTimeout => lock_timeout(),
            CreateBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<CancelBookingError> for ApiError {
    fn from(e: CancelBookingError) -> Self {
        match e {
            CancelBookingError::NotFound => not_found(),
            CancelBookingError::Rule(CancelRuleError::CancelNotAllowed) => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This event type does not allow cancellation",
            ),
            CancelBookingError::LockTimeout => lock_timeout(),
            CancelBookingError::Conflict => {
                ApiError::conflict("conflict", "The booking changed concurrently; retry")
            }
            CancelBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<RescheduleBookingError> for ApiError {
    fn from(e: RescheduleBookingError) -> Self {
        match e {
            RescheduleBookingError::NotFound => not_found(),
            RescheduleBookingError::Rule(RescheduleRuleError::AlreadyCancelled) => {
                ApiError::conflict(
                    "booking_already_cancelled",
                    "This booking is already cancelled",
                )
            }
            RescheduleBookingError::Rule(RescheduleRuleError::AlreadyRescheduled) => {
                ApiError::conflict(
                    "conflict",
                    "This booking was already rescheduled; reschedule the booking that replaced it",
                )
            }
            RescheduleBookingError::Rule(RescheduleRuleError::InPast) => {
                ApiError::conflict("booking_in_past", "This booking has already started")
            }
            RescheduleBookingError::Rule(RescheduleRuleError::Disallowed) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "event_type_disallows_reschedule",
                "This event type does not allow rescheduling",
            ),
            RescheduleBookingError::EventTypeInactive => event_type_inactive(),
            RescheduleBookingError::SlotInPast => slot_in_past(),
            RescheduleBookingError::SlotUnavailable { reason } => slot_unavailable(reason),
            RescheduleBookingError::LockTimeout => lock_timeout(),
            RescheduleBookingError::Conflict => {
                ApiError::conflict("conflict", "The booking changed concurrently; retry")
            }
            RescheduleBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<UpdateBookingError> for ApiError {
    fn from(e: UpdateBookingError) -> Self {
        match e {
            UpdateBookingError::NotFound => not_found(),
            UpdateBookingError::VersionConflict { current } => ApiError::conflict(
                "version_conflict",
                "The If-Match version does not match the current booking version",
            )
            .with_details(json!({ "current_version": current })),
            UpdateBookingError::Invalid(e) => e.into(),
            UpdateBookingError::LockTimeout => lock_timeout(),
            UpdateBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}
