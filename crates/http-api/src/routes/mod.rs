//! Route table: every contract endpoint and addition, grouped by resource. Each resource module
//! exposes `router() -> OpenApiRouter<AppState>` whose handlers carry `#[utoipa::path]`, so the
//! OpenAPI document is generated from the code.

pub mod bookings;
pub mod event_types;
pub mod me;
pub mod oauth;
pub mod pages;
pub mod ping;
pub mod schedules;
pub mod slots;
pub mod support;
pub mod webhooks;

use crate::state::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// All `/v1/*` routes with their OpenAPI description.
pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(ping::router())
        .merge(me::router())
        .merge(event_types::router())
        .merge(slots::router())
        .merge(bookings::router())
        .merge(schedules::router())
        .merge(webhooks::router())
}

/// The whole application.
pub fn build(state: AppState) -> Router {
    crate::ops::assemble(state, v1())
}
