//! Operations endpoints and the middleware stack around the whole application.
//!
//! Routes beside `/v1/*`: `/healthz` (liveness), `/readyz` (store reachable and not draining),
//! `/metrics` (Prometheus text; only with `Authorization: Bearer <[metrics] token>` when one is
//! configured, compared in constant time), `/openapi.json` and `/openapi.yaml` (with
//! `Access-Control-Allow-Origin: *`). Unknown paths get a 404 `not_found` envelope and a wrong
//! method a 405 `method_not_allowed` envelope that keeps axum's `Allow` header.
//!
//! Layers, outermost first:
//! 1. `TraceLayer` (method, path and status; never headers, so never `Authorization`);
//! 2. one middleware ([`middleware`]) that does, outermost first:
//!    1. request id (every response carries `X-Request-Id` equal to the body's `request_id`);
//!    2. a method that is not one of the nine standard ones is answered at once, `405
//!       method_not_allowed`, counted under `method="other"`, `route="unmatched"` (no route
//!       bookkeeping, no authentication, no rate-limit work);
//!    3. metrics (`http_requests_total` counter and `http_request_duration_seconds` histogram,
//!       labelled by method, *matched* route — `unmatched` for the fallback — and status; the
//!       handles are registered once per label set and kept in [`MetricHandles`]). Every
//!       label comes from a closed set (standard methods, route templates, statuses the server
//!       writes), so clients cannot add series;
//!    4. [`crate::auth_layer::guard`]: bearer auth and rate limits for `/v1/*`, so the
//!       rate-limit headers reach every `/v1/*` response, including 404, 405, 413 and timeouts;
//!    5. request timeout → 503 `service_unavailable` with `Retry-After` (one deadline that also
//!       bounds step 4, whose authentication and shared counters touch the database);
//!    6. 405 rewriting;
//! 3. `DefaultBodyLimit` (`ApiJson` maps the overflow to 413 `payload_too_large`).
//!
//! One middleware instead of a layer per step: every layer costs a boxed service clone, a
//! boxed future and a state clone per request, which dominated the cost of cheap requests.
//!
//! HEAD is answered on every GET route (axum's default).

use crate::auth_layer;
use crate::envelope::{RequestId, set_request_id_header};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The rendered OpenAPI document, served by `/openapi.json` and `/openapi.yaml`.
#[derive(Debug, Clone)]
pub struct ApiDocs {
    pub json: String,
    pub yaml: String,
}

impl ApiDocs {
    /// Renders both formats; a rendering failure is served as a 500 later, never a panic.
    pub fn render(api: &utoipa::openapi::OpenApi) -> Self {
        Self {
            json: api.to_pretty_json().unwrap_or_default(),
            yaml: api.to_yaml().unwrap_or_default(),
        }
    }
}

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The documented operations routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(openapi_yaml))
}

/// Splits the v1 router, adds the operations routes and the middleware stack.
pub fn assemble(state: AppState, v1: OpenApiRouter<AppState>) -> Router {
    let (router, mut api) = v1.merge(router()).split_for_parts();
    crate::openapi::constrain_parameters(&mut api);
    if state.config.metrics_token.is_some() {
        crate::openapi::require_bearer(&mut api, "/metrics");
    }
    let stack = Arc::new(Stack {
        state: state.clone(),
        docs: Arc::new(ApiDocs::render(&api)),
        metrics: MetricHandles::default(),
    });
    router
        .merge(crate::routes::oauth::router(
            state.config.oauth_dynamic_registration,
        ))
        .merge(crate::routes::pages::router(&state))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(from_fn_with_state(stack, middleware))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// What [`middleware`] needs, shared by every request of one application.
struct Stack {
    state: AppState,
    docs: Arc<ApiDocs>,
    metrics: MetricHandles,
}

/// The request middleware (see the module documentation for the order of its steps).
async fn middleware(State(stack): State<Arc<Stack>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::new();
    let method = req.method().clone();
    if method_label(&method) == OTHER_METHOD {
        let mut resp = id.scope(async { unknown_method().into_response() }).await;
        stack.metrics.record(
            &method,
            None,
            resp.status(),
            started.elapsed().as_secs_f64(),
        );
        set_request_id_header(&mut resp, &id);
        return resp;
    }
    let route = req.extensions().get::<MatchedPath>().cloned();
    if req.uri().path().starts_with("/openapi.") {
        // Only the document handlers extract it.
        req.extensions_mut().insert(stack.docs.clone());
    }
    let state = &stack.state;
    // One deadline for the guard (authentication, rate limits: database work too) and the
    // handler. The handler's own timeout fires first when the guard was quick, so the guard
    // still adds its rate-limit headers; the outer one bounds a guard stuck on the store.
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    let guarded = auth_layer::guard(state, req, |req| async move {
        match tokio::time::timeout_at(deadline, next.run(req)).await {
            Ok(resp) => method_not_allowed(resp),
            Err(_) => timed_out(),
        }
    });
    let mut resp = id
        .scope(async {
            match tokio::time::timeout_at(deadline, guarded).await {
                Ok(resp) => resp,
                Err(_) => timed_out(),
            }
        })
        .await;
    stack.metrics.record(
        &method,
        route.as_ref(),
        resp.status(),
        started.elapsed().as_secs_f64(),
    );
    set_request_id_header(&mut resp, &id);
    resp
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The process is alive", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// How long `/readyz` waits for the store's answer: a database gone away turns readiness
/// off within this bound (under the pool acquire timeout, so a lost database is reported
/// before requests start failing on it).
pub const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Readiness: the store answers and the server is not draining.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "Draining or the store is unreachable; code `service_unavailable`", body = crate::openapi::ErrorEnvelope),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        return unavailable("The server is shutting down").into_response();
    }
    match tokio::time::timeout(READINESS_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Json(Status { status: "ok" }).into_response(),
        Ok(Err(e)) => {
            let mut err = unavailable("The database is unreachable");
            err.source = Some(e.into());
            err.into_response()
        }
        Err(_) => unavailable("The database did not answer in time").into_response(),
    }
}

/// Prometheus metrics. Open unless `[metrics] token` is configured; then only
/// `Authorization: Bearer <token>` reads them.
// Documented without security; the served document (`assemble`) declares the bearer scheme
// on it when a token is configured, so it says what this server enforces.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 401, description = "A metrics token is configured and the request does not carry it; code `invalid_token`", body = crate::openapi::ErrorEnvelope),
        (status = 404, description = "Metrics are disabled", body = crate::openapi::ErrorEnvelope),
    ))]
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(required) = &state.config.metrics_token
        && !auth_layer::bearer_token(&headers).is_some_and(|t| required.matches(t))
    {
        return auth_layer::unauthorized(
            "invalid_token",
            "Metrics require the configured bearer token",
        )
        .into_response();
    }
    match &state.metrics {
        Some(handle) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            handle.render(),
        )
            .into_response(),
        None => ApiError::not_found("not_found", "Metrics are disabled").into_response(),
    }
}

/// This OpenAPI document as JSON.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = serde_json::Value)))]
async fn openapi_json(Extension(docs): Extension<Arc<ApiDocs>>) -> Response {
    document(&docs.json, "application/json")
}

/// This OpenAPI document as YAML.
#[utoipa::path(get, path = "/openapi.yaml", tag = "operations", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = String, content_type = "application/yaml")))]
async fn openapi_yaml(Extension(docs): Extension<Arc<ApiDocs>>) -> Response {
    document(&docs.yaml, "application/yaml")
}

fn document(text: &str, content_type: &'static str) -> Response {
    if text.is_empty() {
        return ApiError::internal(anyhow::anyhow!("the OpenAPI document failed to render"))
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        text.to_owned(),
    )
        .into_response()
}

/// The request timeout's answer: 503 `service_unavailable` with `Retry-After`.
fn timed_out() -> Response {
    unavailable("The request took too long; retry later")
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from_static(crate::error::RETRY_AFTER_SECS),
        )
        .into_response()
}

fn unavailable(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        message,
    )
}

/// 404 `not_found` for unknown paths.
async fn not_found() -> ApiError {
    not_found_error()
}

/// The 404 `not_found` error of unknown paths (also for paths the booking pages decline).
pub fn not_found_error() -> ApiError {
    ApiError::not_found("not_found", "No resource exists at this path")
}

/// Rewrites axum's empty-bodied 405 into the `method_not_allowed` envelope, keeping `Allow`.
fn method_not_allowed(resp: Response) -> Response {
    if resp.status() != StatusCode::METHOD_NOT_ALLOWED || resp.body().size_hint().exact() != Some(0)
    {
        return resp;
    }
    let mut err = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This method is not allowed on this path; see the Allow header",
    );
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        err = err.with_header(header::ALLOW, allow.clone());
    }
    err.into_response()
}

/// The `method` label of every method outside the nine standard ones.
pub const OTHER_METHOD: &str = "other";

/// The `method` label: a standard method's name, else [`OTHER_METHOD`].
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => OTHER_METHOD,
    }
}

/// `405 method_not_allowed` for a method the server does not know at all.
fn unknown_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This method is not supported; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
    )
}

/// The `http_requests_total` counter and `http_request_duration_seconds` histogram of each
/// (method, route, status) seen so far, registered with the recorder on first use: route
/// label → (method, status, counter, histogram). Looking a label set up here allocates nothing;
/// registering it again on every request (three label strings and a registry lookup) did.
#[derive(Default)]
pub struct MetricHandles {
    by_route: RwLock<HashMap<Box<str>, Vec<MetricEntry>>>,
}

struct MetricEntry {
    method: &'static str,
    status: StatusCode,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

impl MetricHandles {
    /// Counts one request and records its latency under its method, matched route and status.
    pub fn record(
        &self,
        method: &Method,
        matched: Option<&MatchedPath>,
        status: StatusCode,
        seconds: f64,
    ) {
        let route = matched.map_or("unmatched", MatchedPath::as_str);
        let method = method_label(method);
        let find = |entries: &[MetricEntry]| {
            entries
                .iter()
                .position(|e| e.status == status && e.method == method)
        };
        {
            let map = match self.by_route.read() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Some(entries) = map.get(route)
                && let Some(i) = find(entries)
            {
                entries[i].requests.increment(1);
                entries[i].duration.record(seconds);
                return;
            }
        }
        let mut map = match self.by_route.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entries = map.entry(route.into()).or_default();
        let i = match find(entries) {
            Some(i) => i,
            None => {
                let labels = [
                    ("method", method.to_owned()),
                    ("route", route.to_owned()),
                    ("status", status.as_u16().to_string()),
                ];
                entries.push(MetricEntry {
                    method,
                    status,
                    requests: metrics::counter!("http_requests_total", &labels),
                    duration: metrics::histogram!("http_request_duration_seconds", &labels),
                });
                entries.len() - 1
            }
        };
        entries[i].requests.increment(1);
        entries[i].duration.record(seconds);
    }
}

/// The route label: the matched route template, never the raw URI.
pub fn route_label(matched: Option<&MatchedPath>) -> String {
    matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned())
}
