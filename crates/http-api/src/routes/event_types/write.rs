//! Slotbook's event type writes (§7.1): `POST`, `PATCH` (with `If-Match`/`ETag`) and `DELETE`.
//! Each parses the request, calls [`domain::event_type_service::EventTypeService`] and renders;
//! updates and deletes enqueue `event_type.updated` / `event_type.deleted` in the same
//! transaction there, with `data.event_type` rendered exactly as the GET detail.

use super::Renderer;
use crate::error::ApiError;
use crate::extract::{ApiJson, Auth};
use crate::routes::support::{if_match, path_id, with_etag};
use crate::state::AppState;
use api_types::envelope::{Data, ErrorBody};
use api_types::event_type::EventTypeDetail;
use api_types::event_type_request::{CreateEventTypeRequest, PatchEventTypeRequest};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::access::Operation;
use domain::ids::EventTypeId;

/// Creates an event type.
#[utoipa::path(
    post,
    path = "/v1/event-types",
    tag = "event-types",
    operation_id = "createEventType",
    request_body = CreateEventTypeRequest,
    responses(
        (status = 201, description = "The new event type", body = Data<EventTypeDetail>,
            headers(("ETag" = String, description = "Quoted version"))),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope; forbidden (the user is not an owner or admin)", body = ErrorBody),
        (status = 409, description = "conflict (slug taken)", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn create_event_type(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateEventTypeRequest>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::CreateEventType)?;
    let created = state
        .services
        .event_types
        .create(p.organization_id, req.into_domain())
        .await?;
    let et = &created.value;
    let r = Renderer::new(&state, &created.relations);
    Ok(with_etag(
        crate::envelope::data(StatusCode::CREATED, &r.detail(et)),
        et.version,
    ))
}

/// Updates an event type.
#[utoipa::path(
    patch,
    path = "/v1/event-types/{id}",
    tag = "event-types",
    operation_id = "updateEventType",
    params(
        ("id" = String, Path, description = "The event type's UUID"),
        ("If-Match" = String, Header, description = "Required: the ETag, \"3\" or W/\"3\""),
    ),
    request_body = PatchEventTypeRequest,
    responses(
        (status = 200, description = "The updated event type", body = Data<EventTypeDetail>,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "invalid_if_match, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope; forbidden (the user is not an owner or admin)", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 409, description = "version_conflict, conflict (slug taken)", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 428, description = "missing_if_match", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn update_event_type(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PatchEventTypeRequest>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::UpdateEventType)?;
    let id: EventTypeId = path_id(path, "event_type_not_found", "Event type")?;
    let expected = if_match(&headers)?;
    let updated = state
        .services
        .event_types
        .update(p.organization_id, id, expected, req.into_domain())
        .await?;
    let et = &updated.value;
    let r = Renderer::new(&state, &updated.relations);
    Ok(with_etag(crate::envelope::ok(&r.detail(et)), et.version))
}

/// Deletes an event type (its bookings stay).
#[utoipa::path(
    delete,
    path = "/v1/event-types/{id}",
    tag = "event-types",
    operation_id = "deleteEventType",
    params(("id" = String, Path, description = "The event type's UUID")),
    responses(
        (status = 204, description = "Deleted; no body"),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope; forbidden (the user is not an owner or admin)", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 409, description = "conflict (upcoming bookings still hold time)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn delete_event_type(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::DeleteEventType)?;
    let id: EventTypeId = path_id(path, "event_type_not_found", "Event type")?;
    state
        .services
        .event_types
        .delete(p.organization_id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
