//! Slotbook's event type writes (§7.1): `POST`, `PATCH` (with `If-Match`/`ETag`) and `DELETE`.
//! Updates and deletes enqueue `event_type.updated` / `event_type.deleted` in the same
//! transaction, with `data.event_type` rendered exactly as the GET detail.

use super::{Renderer, not_found};
use crate::error::ApiError;
use crate::extract::{ApiJson, Auth};
use crate::routes::support::{
    check_version, delete_error, if_match, path_id, update_error, with_etag,
};
use crate::state::AppState;
use api_types::envelope::{Data, ErrorBody};
use api_types::event_type::EventTypeDetail;
use api_types::event_type_request::{
    CreateEventTypeRequest, HostInput, NewRow, PatchEventTypeRequest,
};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::access::Operation;
use domain::event_type::{EventType, Host};
use domain::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use domain::ports::{CreateError, DomainEvent, OutboxMessage};
use domain::validate::FieldErrors;
use serde_json::json;

/// Resolves written hosts: each user must belong to `org`; the schedule must be one of `org`'s,
/// and defaults to the user's first schedule. Problems are 422 naming `hosts`.
async fn resolve_hosts(
    state: &AppState,
    org: OrganizationId,
    inputs: &[HostInput],
) -> Result<Vec<Host>, ApiError> {
    let mut e = FieldErrors::default();
    let mut hosts = Vec::new();
    for (i, h) in inputs.iter().enumerate() {
        let user = UserId(h.user_id);
        if state.store.get_user(org, user).await?.is_none() {
            e.push(
                "hosts",
                format!("hosts[{i}].user_id is not a user of this organization"),
            );
            continue;
        }
        let schedule = match h.schedule_id {
            Some(s) => state
                .store
                .get_schedule(org, ScheduleId(s))
                .await?
                .map(|s| s.id),
            None => state
                .store
                .list_schedules(org, Some(user))
                .await?
                .first()
                .map(|s| s.id),
        };
        match schedule {
            Some(schedule_id) => hosts.push(Host {
                user_id: user,
                schedule_id,
            }),
            None if h.schedule_id.is_some() => e.push(
                "hosts",
                format!("hosts[{i}].schedule_id is not a schedule of this organization"),
            ),
            None => e.push(
                "hosts",
                format!("hosts[{i}]: the user has no schedule; create one or pass schedule_id"),
            ),
        }
    }
    e.finish(hosts).map_err(|e| ApiError::validation(&e))
}

fn slug_taken(field: &str) -> ApiError {
    ApiError::conflict("conflict", format!("{field} is already taken"))
        .with_details(json!({ "field": field }))
}

fn outbox(state: &AppState, org: OrganizationId, event: &DomainEvent<'_>) -> OutboxMessage {
    OutboxMessage {
        id: state.ids.new_id().into(),
        organization_id: org,
        event: event.name().to_owned(),
        payload: state.deps.encoder.encode(event),
        created_at: state.clock.now(),
    }
}

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
        (status = 403, description = "insufficient_scope", body = ErrorBody),
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
    let org = p.organization_id;
    let inputs = req
        .host_inputs()
        .map_err(|e| ApiError::validation(&e))?
        .to_vec();
    let hosts = resolve_hosts(&state, org, &inputs).await?;
    let owner = match req.owner() {
        Some(o) if state.store.get_user(org, o).await?.is_some() => o,
        _ => {
            return Err(ApiError::field(
                "owner_user_id",
                "must be a user of this organization",
            ));
        }
    };
    let row = NewRow {
        id: EventTypeId(state.ids.new_id()),
        organization_id: org,
        now: state.clock.now(),
    };
    let et = req
        .into_domain(row, owner, hosts)
        .map_err(|e| ApiError::validation(&e))?;
    et.validate().map_err(|e| ApiError::validation(&e))?;
    state
        .store
        .create_event_type(&et)
        .await
        .map_err(|e| match e {
            CreateError::Duplicate { field } => slug_taken(field),
            CreateError::Unknown(e) => ApiError::internal(e),
        })?;
    let r = Renderer::load(&state, org, std::slice::from_ref(&et)).await?;
    Ok(with_etag(
        crate::envelope::data(StatusCode::CREATED, &r.detail(&et)),
        et.version,
    ))
}

async fn load_by_id(
    state: &AppState,
    org: OrganizationId,
    id: EventTypeId,
) -> Result<EventType, ApiError> {
    state
        .store
        .get_event_type(org, id)
        .await?
        .ok_or_else(not_found)
}

const STALE: &str = "The If-Match version does not match the current event type version";

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
        (status = 403, description = "insufficient_scope", body = ErrorBody),
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
    let org = p.organization_id;
    let id: EventTypeId = path_id(path, "event_type_not_found", "Event type")?;
    let expected = if_match(&headers)?;
    let mut et = load_by_id(&state, org, id).await?;
    check_version(et.version, expected, STALE)?;
    let hosts = match &req.hosts {
        Some(h) => Some(resolve_hosts(&state, org, h).await?),
        None => None,
    };
    req.apply(&mut et, hosts, state.clock.now())
        .map_err(|e| ApiError::validation(&e))?;
    et.validate().map_err(|e| ApiError::validation(&e))?;
    let r = Renderer::load(&state, org, std::slice::from_ref(&et)).await?;
    let detail = r.detail(&et);
    let msg = outbox(&state, org, &r.event(&et, false));
    state
        .store
        .update_event_type(&et, expected, &[msg])
        .await
        .map_err(|e| update_error(e, not_found, STALE, slug_taken))?;
    Ok(with_etag(crate::envelope::ok(&detail), et.version))
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
        (status = 403, description = "insufficient_scope", body = ErrorBody),
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
    let org = p.organization_id;
    let id: EventTypeId = path_id(path, "event_type_not_found", "Event type")?;
    let et = load_by_id(&state, org, id).await?;
    let r = Renderer::load(&state, org, std::slice::from_ref(&et)).await?;
    let msg = outbox(&state, org, &r.event(&et, true));
    state
        .store
        .delete_event_type(org, id, &[msg])
        .await
        .map_err(|e| delete_error(e, not_found, "event type"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
