//! Availability schedules (§7.1, `availability:read` / `availability:write`): list, read (with
//! `ETag`), create, PATCH (with `If-Match`) and delete (409 while an event type uses it).

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection; shrinking it belongs in error.rs"
)]

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth, QueryParams};
use crate::routes::support::{if_match, in_use, path_id, uuid_param, version_conflict, with_etag};
use crate::state::AppState;
use api_types::envelope::{Data, DataList, ErrorBody};
use api_types::schedule::{CreateScheduleRequest, PatchScheduleRequest, ScheduleDto};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::access::Operation;
use domain::availability::Schedule;
use domain::ids::{ScheduleId, UserId};
use domain::schedule_service::{
    CreateScheduleError, DeleteScheduleError, GetScheduleError, UpdateScheduleError,
};

/// `/v1/schedules`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, update_schedule, delete_schedule))
}

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn not_found() -> ApiError {
    ApiError::not_found("not_found", "Schedule not found")
}

/// 409 `conflict` for a unique field already in use.
fn taken(field: &str) -> ApiError {
    ApiError::conflict("conflict", format!("{field} is already taken"))
}

const STALE: &str = "The If-Match version does not match the current schedule version";

impl From<GetScheduleError> for ApiError {
    fn from(e: GetScheduleError) -> Self {
        match e {
            GetScheduleError::NotFound => not_found(),
            GetScheduleError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<CreateScheduleError> for ApiError {
    fn from(e: CreateScheduleError) -> Self {
        match e {
            CreateScheduleError::Invalid(e) => ApiError::validation(&e),
            CreateScheduleError::Duplicate { field } => taken(field),
            CreateScheduleError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<UpdateScheduleError> for ApiError {
    fn from(e: UpdateScheduleError) -> Self {
        match e {
            UpdateScheduleError::NotFound => not_found(),
            UpdateScheduleError::VersionConflict => version_conflict(STALE),
            UpdateScheduleError::Invalid(e) => ApiError::validation(&e),
            UpdateScheduleError::Duplicate { field } => taken(field),
            UpdateScheduleError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<DeleteScheduleError> for ApiError {
    fn from(e: DeleteScheduleError) -> Self {
        match e {
            DeleteScheduleError::NotFound => not_found(),
            DeleteScheduleError::InUse(what) => in_use("schedule", &what),
            DeleteScheduleError::Unknown(e) => ApiError::internal(e),
        }
    }
}

fn one(status: StatusCode, s: &Schedule) -> Response {
    with_etag(
        crate::envelope::data(status, &ScheduleDto::from_domain(s)),
        s.version,
    )
}

/// Lists schedules, oldest first.
#[utoipa::path(
    get,
    path = "/v1/schedules",
    tag = "schedules",
    operation_id = "listSchedules",
    params(("user_id" = Option<Uuid>, Query, description = "Only this user's schedules")),
    responses(
        (status = 200, description = "Schedules (not paginated)", body = DataList<ScheduleDto>),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_schedules(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::ListSchedules)?;
    let user: Option<UserId> = uuid_param(&q, "user_id")?;
    let list = state
        .services
        .schedules
        .list(p.organization_id, user)
        .await?;
    let items: Vec<ScheduleDto> = list.iter().map(ScheduleDto::from_domain).collect();
    Ok(crate::envelope::ok(&items))
}

/// Reads a schedule.
#[utoipa::path(
    get,
    path = "/v1/schedules/{id}",
    tag = "schedules",
    operation_id = "getSchedule",
    params(("id" = String, Path, description = "The schedule's UUID")),
    responses(
        (status = 200, description = "The schedule", body = Data<ScheduleDto>,
            headers(("ETag" = String, description = "Quoted version"))),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn get_schedule(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::GetSchedule)?;
    let id: ScheduleId = path_id(path, "not_found", "Schedule")?;
    let s = state.services.schedules.get(p.organization_id, id).await?;
    Ok(one(StatusCode::OK, &s))
}

/// Creates a schedule.
#[utoipa::path(
    post,
    path = "/v1/schedules",
    tag = "schedules",
    operation_id = "createSchedule",
    request_body = CreateScheduleRequest,
    responses(
        (status = 201, description = "The new schedule", body = Data<ScheduleDto>,
            headers(("ETag" = String, description = "Quoted version"))),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 409, description = "conflict", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn create_schedule(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateScheduleRequest>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::CreateSchedule)?;
    let s = state
        .services
        .schedules
        .create(p.organization_id, p.user_id, req.into_domain())
        .await?;
    Ok(one(StatusCode::CREATED, &s))
}

/// Updates a schedule.
#[utoipa::path(
    patch,
    path = "/v1/schedules/{id}",
    tag = "schedules",
    operation_id = "updateSchedule",
    params(
        ("id" = String, Path, description = "The schedule's UUID"),
        ("If-Match" = String, Header, description = "Required: the ETag, \"3\" or W/\"3\""),
    ),
    request_body = PatchScheduleRequest,
    responses(
        (status = 200, description = "The updated schedule", body = Data<ScheduleDto>,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "invalid_if_match, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope; forbidden (the user is not an owner or admin)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "version_conflict", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 428, description = "missing_if_match", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn update_schedule(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PatchScheduleRequest>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::UpdateSchedule)?;
    let id: ScheduleId = path_id(path, "not_found", "Schedule")?;
    let expected = if_match(&headers)?;
    let s = state
        .services
        .schedules
        .update(p.organization_id, id, expected, req.into_domain())
        .await?;
    Ok(one(StatusCode::OK, &s))
}

/// Deletes a schedule that no event type uses.
#[utoipa::path(
    delete,
    path = "/v1/schedules/{id}",
    tag = "schedules",
    operation_id = "deleteSchedule",
    params(("id" = String, Path, description = "The schedule's UUID")),
    responses(
        (status = 204, description = "Deleted; no body"),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope; forbidden (the user is not an owner or admin)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "conflict (an event type uses it)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn delete_schedule(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::DeleteSchedule)?;
    let id: ScheduleId = path_id(path, "not_found", "Schedule")?;
    state
        .services
        .schedules
        .delete(p.organization_id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
