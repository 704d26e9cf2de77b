//! The success envelope `{ "data": …, "meta": { "request_id": … } }` (§2.5) and the request id
//! that ties a response body to its `X-Request-Id` header.
//!
//! The request id lives in a task-local set by [`request_id_layer`] around the whole request,
//! so any response built inside the request (success or error) can read it.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// `req_` + 32 lowercase hex characters.
pub fn new_request_id() -> String {
    format!("req_{}", uuid::Uuid::new_v4().simple())
}

/// The id of the request being served (a fresh one outside any request).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_request_id())
}

/// Middleware: assigns the request id, runs the request inside its scope and sets
/// `X-Request-Id` on the response.
pub async fn request_id_layer(req: Request, next: Next) -> Response {
    let id = new_request_id();
    let mut resp = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// `{data, meta:{request_id}}` with the given status.
pub fn data<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = json!({ "data": value, "meta": { "request_id": current_request_id() } });
    (status, axum::Json(body)).into_response()
}

/// 200 `{data, meta:{request_id}}`.
pub fn ok<T: Serialize>(value: &T) -> Response {
    data(StatusCode::OK, value)
}

/// A list page: `{data: [...], meta: {request_id, next_cursor, has_more}}`.
pub fn page<T: Serialize>(items: &[T], next_cursor: Option<&str>, has_more: bool) -> Response {
    let body = json!({
        "data": items,
        "meta": { "request_id": current_request_id(), "next_cursor": next_cursor, "has_more": has_more }
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The envelope as a JSON value (for idempotent responses that are stored and replayed).
pub fn data_value<T: Serialize>(value: &T) -> Value {
    json!({ "data": value, "meta": { "request_id": current_request_id() } })
}
