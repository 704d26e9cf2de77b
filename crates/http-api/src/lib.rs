//! The v1 REST API as an axum `Router` over the domain ports.
//!
//! Layers, outermost first: request id (task-local, echoed as `X-Request-Id` and
//! `meta.request_id`), metrics, timeout, body limit, then for `/v1/*` authentication and rate
//! limits ([`auth_layer`]), then the handlers in [`routes`]. Handlers parse and check wire input
//! (`api-types`), call the domain (services and ports), and render envelopes; business rules
//! live in `domain`, never here. This crate never names a concrete store.

pub mod auth_layer;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod idempotency;
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
