//! The success envelope `{ "data": …, "meta": { "request_id": … } }` (§2.5) and the request id
//! that ties a response body to its `X-Request-Id` header.
//!
//! The request id lives in a task-local set by [`crate::ops`]'s middleware around the whole request,
//! so any response built inside the request (success or error) can read it.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

/// A request id, `req_` + 32 lowercase hex characters, held inline (no allocation; `Copy`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 36]);

impl RequestId {
    /// A fresh id: the simple form of a random (version 4) UUID from the thread-local CSPRNG.
    pub fn new() -> Self {
        let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut buf = *b"req_00000000000000000000000000000000";
        uuid.simple().encode_lower(&mut buf[4..]);
        Self(buf)
    }

    /// Parses `req_` + 32 lowercase hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes: [u8; 36] = s.as_bytes().try_into().ok()?;
        let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        (bytes.starts_with(b"req_") && bytes[4..].iter().all(hex)).then_some(Self(bytes))
    }

    /// The id of the request being served (a fresh one outside any request).
    pub fn current() -> Self {
        REQUEST_ID
            .try_with(|id| *id)
            .unwrap_or_else(|_| Self::new())
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: a literal prefix and hex digits.
        std::str::from_utf8(&self.0).unwrap_or("req_")
    }

    /// The `X-Request-Id` header value.
    pub fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }

    /// Runs `fut` with this id as the current request id.
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        REQUEST_ID.scope(self, fut).await
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `req_` + 32 lowercase hex characters.
pub fn new_request_id() -> String {
    RequestId::new().as_str().to_owned()
}

/// The id of the request being served (a fresh one outside any request).
pub fn current_request_id() -> String {
    RequestId::current().as_str().to_owned()
}

/// Sets `X-Request-Id` on a response.
pub fn set_request_id_header(resp: &mut Response, id: &RequestId) {
    if let Some(v) = id.header_value() {
        resp.headers_mut().insert("x-request-id", v);
    }
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
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// `bytes` (JSON) with `Content-Type: application/json`.
fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `{data, meta:{request_id}}` with the given status.
pub fn data<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let request_id = RequestId::current();
    json_response(
        status,
        &Envelope {
            data: value,
            meta: Meta {
                request_id: request_id.as_str(),
            },
        },
    )
}

/// 200 `{data, meta:{request_id}}`.
pub fn ok<T: Serialize>(value: &T) -> Response {
    data(StatusCode::OK, value)
}

/// 200 `{data, meta:{request_id}}` whose `data` JSON `write_data` appends (a hot response's
/// hand-written serializer, e.g. `api_types::slots::Slots::write_json`); the same bytes as
/// [`ok`] of the value.
pub fn ok_written(write_data: impl FnOnce(&mut Vec<u8>)) -> Response {
    let request_id = RequestId::current();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"{\"data\":");
    write_data(&mut bytes);
    bytes.extend_from_slice(b",\"meta\":{\"request_id\":\"");
    bytes.extend_from_slice(request_id.as_str().as_bytes());
    bytes.extend_from_slice(b"\"}}");
    json_bytes(StatusCode::OK, bytes)
}

/// A list page: `{data: [...], meta: {request_id, next_cursor, has_more}}`.
pub fn page<T: Serialize>(items: &[T], next_cursor: Option<&str>, has_more: bool) -> Response {
    let request_id = RequestId::current();
    json_response(
        StatusCode::OK,
        &Envelope {
            data: items,
            meta: PageMeta {
                has_more,
                next_cursor,
                request_id: request_id.as_str(),
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
        let id = RequestId::parse(&rid).unwrap();
        let (status, ct, v) = REQUEST_ID
            .scope(id, async {
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
            .scope(id, async { data_value(&Item { id: 7, name: "x" }) })
            .await;
        assert_eq!(v, stored);

        let items = [Item { id: 1, name: "a" }, Item { id: 2, name: "b" }];
        for (cursor, more) in [(Some("c_1"), true), (None, false)] {
            let (status, ct, v) = REQUEST_ID
                .scope(id, async { body(page(&items, cursor, more)).await })
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
    async fn a_written_envelope_is_the_bytes_of_ok() {
        let id = RequestId::new();
        let bytes = |r: Response| async move {
            let ct = r.headers()[header::CONTENT_TYPE].clone();
            (
                r.status(),
                ct,
                r.into_body().collect().await.unwrap().to_bytes(),
            )
        };
        let item = Item {
            id: 7,
            name: "x\"y",
        };
        let (served, written) = id
            .scope(async {
                (
                    bytes(ok(&item)).await,
                    bytes(ok_written(|out| serde_json::to_writer(out, &item).unwrap())).await,
                )
            })
            .await;
        assert_eq!(served, written);
    }

    #[tokio::test]
    async fn unserializable_data_is_a_500_envelope() {
        let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let (status, _, v) = body(ok(&bad)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(v["error"]["code"], "internal_error");
        assert!(is_request_id(v["error"]["request_id"].as_str().unwrap()));
    }

    #[test]
    fn request_ids_are_fresh_v4_uuids_and_their_own_header() {
        let a = RequestId::new();
        let b = RequestId::new();
        assert_ne!(a, b);
        assert!(is_request_id(a.as_str()), "{a:?}");
        let uuid = uuid::Uuid::parse_str(&a.as_str()[4..]).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(a.header_value().unwrap(), a.as_str());
        assert_eq!(RequestId::parse(a.as_str()), Some(a));
        assert_eq!(
            RequestId::parse("req_0123456789ABCDEF0123456789abcdef"),
            None
        );
        assert_eq!(RequestId::parse("req_0123"), None);
        // Outside a request every call is a new id; inside, the scoped one.
        assert_ne!(current_request_id(), current_request_id());
    }

    #[tokio::test]
    async fn the_scoped_id_is_current() {
        let id = RequestId::new();
        let seen = id
            .scope(async { (RequestId::current(), current_request_id()) })
            .await;
        assert_eq!(seen, (id, id.as_str().to_owned()));
    }

    fn is_request_id(s: &str) -> bool {
        s.len() == 36
            && s.starts_with("req_")
            && s[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}
