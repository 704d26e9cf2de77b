//! The success envelope `{ "data": …, "meta": { "request_id": … } }` (§2.5) and the request id
//! that ties a response body to its `X-Request-Id` header.
//!
//! The request id lives in a task-local set by [`request_id_layer`] around the whole request,
//! so any response built inside the request (success or error) can read it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
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

// The envelopes are written straight to bytes from these borrowing structs (no `Value` tree).
// Fields are declared in alphabetical order, the order the `json!` maps of `data_value` and
// error envelopes use (serde_json without `preserve_order`), so every body has one key order.

#[derive(Serialize)]
struct Envelope<'a, T: ?Sized, M> {
    data: &'a T,
    meta: M,
}

#[derive(Serialize)]
struct Meta<'a> {
    request_id: &'a str,
}

#[derive(Serialize)]
struct PageMeta<'a> {
    has_more: bool,
    next_cursor: Option<&'a str>,
    request_id: &'a str,
}

/// A JSON response with `Content-Type: application/json` (a 500 envelope if `body` cannot be
/// serialized, e.g. a map with non-string keys).
fn json_response<B: Serialize>(status: StatusCode, body: &B) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = Response::new(Body::from(bytes));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// `{data, meta:{request_id}}` with the given status.
pub fn data<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let request_id = current_request_id();
    json_response(
        status,
        &Envelope {
            data: value,
            meta: Meta {
                request_id: &request_id,
            },
        },
    )
}

/// 200 `{data, meta:{request_id}}`.
pub fn ok<T: Serialize>(value: &T) -> Response {
    data(StatusCode::OK, value)
}

/// A list page: `{data: [...], meta: {request_id, next_cursor, has_more}}`.
pub fn page<T: Serialize>(items: &[T], next_cursor: Option<&str>, has_more: bool) -> Response {
    let request_id = current_request_id();
    json_response(
        StatusCode::OK,
        &Envelope {
            data: items,
            meta: PageMeta {
                has_more,
                next_cursor,
                request_id: &request_id,
            },
        },
    )
}

/// The envelope as a JSON value (for idempotent responses that are stored and replayed).
pub fn data_value<T: Serialize>(value: &T) -> Value {
    json!({ "data": value, "meta": { "request_id": current_request_id() } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(resp: Response) -> (StatusCode, String, Value) {
        let status = resp.status();
        let ct = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, ct, serde_json::from_slice(&bytes).unwrap())
    }

    #[derive(Serialize)]
    struct Item {
        id: u32,
        name: &'static str,
    }

    #[tokio::test]
    async fn envelopes_carry_the_scoped_request_id_and_json_content_type() {
        let rid = "req_0123456789abcdef0123456789abcdef".to_owned();
        let (status, ct, v) = REQUEST_ID
            .scope(rid.clone(), async {
                body(data(StatusCode::CREATED, &Item { id: 7, name: "x" })).await
            })
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(ct, "application/json");
        assert_eq!(
            v,
            json!({"data": {"id": 7, "name": "x"}, "meta": {"request_id": rid}})
        );
        // The stored form of idempotent responses is the same document.
        let stored = REQUEST_ID
            .scope(rid.clone(), async { data_value(&Item { id: 7, name: "x" }) })
            .await;
        assert_eq!(v, stored);

        let items = [Item { id: 1, name: "a" }, Item { id: 2, name: "b" }];
        for (cursor, more) in [(Some("c_1"), true), (None, false)] {
            let (status, ct, v) = REQUEST_ID
                .scope(rid.clone(), async { body(page(&items, cursor, more)).await })
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(ct, "application/json");
            assert_eq!(
                v,
                json!({
                    "data": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
                    "meta": {"request_id": rid, "next_cursor": cursor, "has_more": more}
                })
            );
        }
    }

    #[tokio::test]
    async fn unserializable_data_is_a_500_envelope() {
        let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let (status, _, v) = body(ok(&bad)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(v["error"]["code"], "internal_error");
        assert!(is_request_id(v["error"]["request_id"].as_str().unwrap()));
    }

    fn is_request_id(s: &str) -> bool {
        s.len() == 36
            && s.starts_with("req_")
            && s[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}
