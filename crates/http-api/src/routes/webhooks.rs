//! Webhook subscriptions (§4.1): list, create (201 with the signing secret), get, PATCH,
//! DELETE (204), rotate-secret, test and the deliveries log (newest first, paginated). Every
//! route parses, calls [`domain::webhook_service::WebhookService`] and renders; the sandbox
//! (a credential sees only what it created), validation and delivery rules live there.
//!
//! Error statuses follow the table of §4.1: dot event names are `400 validation_error`
//! (§4.2); other invalid create input is `422 validation_error`; invalid PATCH input is
//! `400 validation_error` (the contract lists no 422 for PATCH); unknown, foreign and other
//! organizations' ids are all `404 not_found`.

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection"
)]

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth, KnownFields, QueryParams};
use crate::routes::support::{page_request, path_id, store_page};
use crate::state::AppState;
use api_types::WireFields;
use api_types::envelope::{Data, DataList, ErrorBody, Paged};
use api_types::webhook_api::{
    CreateWebhookRequest, PatchWebhookRequest, WebhookDeliveryDto, WebhookDto, WebhookWithSecretDto,
};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::access::Principal;
use domain::webhook::{DELIVERIES_SORT, Webhook, WebhookId};
use domain::webhook_service::WebhookError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

impl KnownFields for CreateWebhookRequest {
    const FIELDS: &'static [&'static str] = <CreateWebhookRequest as WireFields>::FIELDS;
}

impl KnownFields for PatchWebhookRequest {
    const FIELDS: &'static [&'static str] = <PatchWebhookRequest as WireFields>::FIELDS;
}

/// `/v1/webhooks`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
}

const READ: &str = "webhooks:read";
const WRITE: &str = "webhooks:write";

fn require<'a>(auth: &'a Auth, scope: &'static str) -> Result<&'a Principal, ApiError> {
    auth.0
        .require(scope)
        .map_err(|m| crate::auth_layer::insufficient_scope(m.required))?;
    Ok(&auth.0)
}

fn id_of(path: Result<Path<String>, PathRejection>) -> Result<WebhookId, ApiError> {
    path_id(path, "not_found", "Webhook")
}

/// Maps a use-case failure; `invalid_status` is the status of non-dot validation failures.
fn error(e: WebhookError, invalid_status: StatusCode) -> ApiError {
    match e {
        WebhookError::NotFound => ApiError::not_found("not_found", "Webhook not found"),
        WebhookError::DotNames(f) => {
            let mut err = ApiError::validation(&f);
            err.status = StatusCode::BAD_REQUEST;
            err
        }
        WebhookError::Invalid(f) => {
            let mut err = ApiError::validation(&f);
            err.status = invalid_status;
            err
        }
        WebhookError::Unknown(e) => ApiError::internal(e),
    }
}

fn lookup_error(e: WebhookError) -> ApiError {
    error(e, StatusCode::BAD_REQUEST)
}

fn with_secret(w: &Webhook, secret: String) -> WebhookWithSecretDto {
    WebhookWithSecretDto {
        webhook: WebhookDto::from_domain(w),
        signing_secret: secret,
    }
}

/// Lists the caller's subscriptions (not paginated).
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "webhooks",
    operation_id = "listWebhooks",
    responses(
        (status = 200, description = "The subscriptions this credential created", body = DataList<WebhookDto>),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    let p = require(&auth, READ)?;
    let list = state.webhooks.list(p).await.map_err(lookup_error)?;
    let items: Vec<WebhookDto> = list.iter().map(WebhookDto::from_domain).collect();
    Ok(crate::envelope::ok(&items))
}

/// Creates a subscription; the response carries its signing secret, shown only now.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    tag = "webhooks",
    operation_id = "createWebhook",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The new subscription with its secret", body = Data<WebhookWithSecretDto>),
        (status = 400, description = "validation_error (dot event names), invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 422, description = "validation_error", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> Result<Response, ApiError> {
    let p = require(&auth, WRITE)?;
    let (w, secret) = state
        .webhooks
        .register(p, req.into_domain())
        .await
        .map_err(|e| error(e, StatusCode::UNPROCESSABLE_ENTITY))?;
    Ok(crate::envelope::data(
        StatusCode::CREATED,
        &with_secret(&w, secret),
    ))
}

/// Reads a subscription.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "getWebhook",
    params(("id" = String, Path, description = "The webhook's UUID")),
    responses(
        (status = 200, description = "The subscription", body = Data<WebhookDto>),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = require(&auth, READ)?;
    let id = id_of(path)?;
    let w = state.webhooks.get(p, id).await.map_err(lookup_error)?;
    Ok(crate::envelope::ok(&WebhookDto::from_domain(&w)))
}

/// Changes `url`, `events`, `description` or `status`; any edit resets the failure count.
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "updateWebhook",
    params(("id" = String, Path, description = "The webhook's UUID")),
    request_body = PatchWebhookRequest,
    responses(
        (status = 200, description = "The updated subscription", body = Data<WebhookDto>),
        (status = 400, description = "validation_error, invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<PatchWebhookRequest>,
) -> Result<Response, ApiError> {
    let p = require(&auth, WRITE)?;
    let id = id_of(path)?;
    let w = state
        .webhooks
        .update(p, id, req.into_domain())
        .await
        .map_err(|e| error(e, StatusCode::BAD_REQUEST))?;
    Ok(crate::envelope::ok(&WebhookDto::from_domain(&w)))
}

/// Deletes a subscription; a repeated delete is 404.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "deleteWebhook",
    params(("id" = String, Path, description = "The webhook's UUID")),
    responses(
        (status = 204, description = "Deleted; no body"),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = require(&auth, WRITE)?;
    let id = id_of(path)?;
    state.webhooks.delete(p, id).await.map_err(lookup_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replaces the signing secret; the old one is invalid at once.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    operation_id = "rotateWebhookSecret",
    params(("id" = String, Path, description = "The webhook's UUID")),
    responses(
        (status = 200, description = "The subscription with its new secret", body = Data<WebhookWithSecretDto>),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = require(&auth, WRITE)?;
    let id = id_of(path)?;
    let (w, secret) = state
        .webhooks
        .rotate_secret(p, id)
        .await
        .map_err(lookup_error)?;
    Ok(crate::envelope::ok(&with_secret(&w, secret)))
}

/// Sends the synthetic `webhook.test` event now and returns its delivery.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/test",
    tag = "webhooks",
    operation_id = "testWebhook",
    params(("id" = String, Path, description = "The webhook's UUID")),
    responses(
        (status = 200, description = "The test delivery", body = Data<WebhookDeliveryDto>),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn test_webhook(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = require(&auth, WRITE)?;
    let id = id_of(path)?;
    let d = state.webhooks.test(p, id).await.map_err(lookup_error)?;
    Ok(crate::envelope::ok(&WebhookDeliveryDto::from_domain(&d)))
}

/// A subscription's deliveries, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    params(
        ("id" = String, Path, description = "The webhook's UUID"),
        ("limit" = Option<i64>, Query, description = "1–100 (default 20; larger values are clamped)"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Paged<WebhookDeliveryDto>),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = require(&auth, READ)?;
    let id = id_of(path)?;
    let page = page_request(&q, DELIVERIES_SORT, domain::pagination::CursorKind::Instant)?;
    let result = state
        .webhooks
        .deliveries(p, id, &page)
        .await
        .map_err(lookup_error)?;
    let items: Vec<WebhookDeliveryDto> = result
        .items
        .iter()
        .map(WebhookDeliveryDto::from_domain)
        .collect();
    Ok(store_page(
        &state,
        &format!("/v1/webhooks/{id}/deliveries"),
        &q,
        &items,
        &result,
    ))
}
