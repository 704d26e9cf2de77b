//! OpenAPI shapes of the success envelope `{data, meta}` and of list pages (§2.5, §2.7). The
//! HTTP layer renders envelopes itself; these types only describe them in the document.

use serde::Serialize;
use utoipa::ToSchema;

/// `meta` of a single-object response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Meta {
    /// `req_` + 32 hex characters; equals the `X-Request-Id` header.
    #[schema(example = "req_01a0808c9fd8f69a474ad660eeca8b5e")]
    pub request_id: String,
}

/// `meta` of a list page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageMeta {
    pub request_id: String,
    /// Opaque; `null` on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// `{data: T, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Data<T: ToSchema> {
    pub data: T,
    pub meta: Meta,
}

/// `{data: [T], meta: {request_id, next_cursor, has_more}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

/// `{data: [T], meta: {request_id}}` (unpaginated lists).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataList<T: ToSchema> {
    pub data: Vec<T>,
    pub meta: Meta,
}

/// The error body (§2.6).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `error` of the error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Branch on this, e.g. `slot_unavailable`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub request_id: String,
}
