//! Operations endpoints and the outer middleware stack (being written).

use crate::state::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// Splits the v1 router, adds operations routes and the middleware stack.
pub fn assemble(state: AppState, v1: OpenApiRouter<AppState>) -> Router {
    let (router, _api) = v1.split_for_parts();
    router
        .layer(axum::middleware::from_fn(crate::envelope::request_id_layer))
        .with_state(state)
}
