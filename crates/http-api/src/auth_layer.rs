//! Bearer authentication and rate limiting for `/v1/*` (being written).

use crate::error::ApiError;
use axum::http::StatusCode;

/// 403 `insufficient_scope` naming the required scope.
pub fn insufficient_scope(required: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("This action requires the '{required}' scope"),
    )
    .with_details(serde_json::json!({ "required_scope": required }))
}
