//! `ApiError`: every failure a handler can return, rendered as the contract's error envelope
//! `{ "error": { code, message, details, request_id } }` (§2.6). A 5xx never carries internals:
//! the cause is logged with the request id and the client sees a generic message.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::validate::FieldErrors;
use serde_json::{Value, json};

/// `Retry-After` of a 503 caused by an unavailable store, in seconds.
pub const RETRY_AFTER_SECS: &str = "1";

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    pub headers: HeaderMap,
    /// Logged, never sent.
    pub source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with empty details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: json!({}),
            headers: HeaderMap::new(),
            source: None,
        }
    }

    /// Replaces `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// 500 with a generic message; the cause is logged. A cause whose chain says the store is
    /// unavailable (pool timeout, lost connection, lock or queue full) is
    /// [`ApiError::unavailable`] instead: overload is a 503, never a 500. A write whose
    /// idempotency reservation was taken over by another request after its lease
    /// ([`domain::ports::ReservationLost`]: nothing was committed) is
    /// [`ApiError::idempotency_in_progress`]: the key is the other request's now.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        if domain::ports::reservation_lost(&e) {
            tracing::warn!(
                "a late request's idempotency reservation was taken over; nothing committed"
            );
            let mut err = Self::idempotency_in_progress();
            err.source = Some(e);
            return err;
        }
        if domain::ports::unavailable_kind(&e).is_some() {
            let mut err = Self::unavailable();
            err.source = Some(e);
            return err;
        }
        let mut err = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side; retry later",
        );
        err.source = Some(e);
        err
    }

    /// 409 `idempotency_in_progress` with `Retry-After: 1` (§2.8): another request holds the
    /// key.
    pub fn idempotency_in_progress() -> Self {
        Self::conflict(
            "idempotency_in_progress",
            "A request with this Idempotency-Key is still being processed; retry shortly",
        )
        .with_header(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_static("1"),
        )
    }

    /// 503 `service_unavailable` with `Retry-After`: the store cannot serve the request now
    /// (§2.6). The cause is logged, never sent.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable (the database is busy or unreachable); retry after the Retry-After delay",
        )
        .with_header(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        )
    }

    /// 400 `invalid_query_param` naming the parameter.
    pub fn query_param(param: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query_param", message)
            .with_details(json!({ "param": param }))
    }

    /// 422 `validation_error` with `details.fields = {field: [messages]}`.
    pub fn validation(errors: &FieldErrors) -> Self {
        let mut fields = serde_json::Map::new();
        for e in &errors.0 {
            let entry = fields
                .entry(e.field.clone())
                .or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(v) = entry {
                v.push(Value::String(e.message.clone()));
            }
        }
        let summary = errors
            .0
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            format!("Request failed validation: {summary}"),
        )
        .with_details(json!({ "fields": fields }))
    }

    /// 422 `validation_error` for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::default();
        e.push(field, message);
        Self::validation(&e)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl From<domain::ports::StoreError> for ApiError {
    fn from(e: domain::ports::StoreError) -> Self {
        let domain::ports::StoreError::Unknown(e) = e;
        Self::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = crate::envelope::current_request_id();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Expected under overload or an outage: one line each, without alarm.
            if let Some(e) = &self.source {
                tracing::warn!(request_id = %request_id, code = self.code, error = %format!("{e:#}"), "request refused: store unavailable");
            }
        } else if self.status.is_server_error() {
            match &self.source {
                Some(e) => {
                    tracing::error!(request_id = %request_id, code = self.code, error = ?e, "request failed")
                }
                None => {
                    tracing::error!(request_id = %request_id, code = self.code, "request failed")
                }
            }
        }
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "request_id": request_id,
            }
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().extend(self.headers);
        resp
    }
}
