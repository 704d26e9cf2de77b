//! The v1 REST API as an axum `Router` over the domain ports.
//!
//! Layers, outermost first (see [`ops`]): request id (task-local, echoed as `X-Request-Id` and
//! `meta.request_id`), tracing, metrics, then for `/v1/*` authentication and rate limits
//! ([`auth_layer`], [`rate_limit`]), request timeout, 405 envelopes and the body limit, then
//! the handlers in [`routes`] (booking writes use [`idempotency`]). Handlers parse and check
//! wire input (`api-types`), call the domain (services and ports), and render envelopes;
//! business rules live in `domain`, never here. This crate never names a concrete store.

// `ApiError` is the rendered response of a failed request (status, code, message, details,
// headers): it is built once per failing request and turned into a response right away, so
// boxing it would only add an allocation and noise at every `?`.
#![allow(clippy::result_large_err)]

pub mod auth_cache;
pub mod auth_layer;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod oauth_password;
pub mod openapi;
pub mod ops;
pub mod rate_limit;
pub mod routes;
pub mod state;

pub use error::ApiError;
pub use state::{ApiConfig, AppState};

/// Builds the whole application: contract routes, additions and operations endpoints.
pub fn app(state: AppState) -> axum::Router {
    routes::build(state)
}
