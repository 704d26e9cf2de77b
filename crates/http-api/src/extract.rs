//! Extractors that turn bad input into the contract's errors instead of axum's defaults:
//! [`ApiJson`] (400 `invalid_request` for malformed JSON with line/column, 413
//! `payload_too_large`, 422 `validation_error` naming unknown fields and wrong types),
//! [`QueryParams`] (400 `invalid_query_param` naming the parameter) and [`Auth`] (the caller's
//! [`Principal`], put in the request extensions by [`crate::auth_layer`]).
//!
//! Hostile-input rules (§6.3): a body on a JSON endpoint must be typed `application/json` (or
//! `…+json`), else 415 `invalid_request`; a NUL character in any string of a body is 422
//! `validation_error` naming the field, and in a query parameter 400 `invalid_query_param`; a
//! repeated query parameter (other than the list parameters [`MULTI_VALUED`]) is 400
//! `invalid_query_param`, and a repeated `Idempotency-Key` header 400 `invalid_request`.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes_alias::Bytes;
use domain::access::Principal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::str::FromStr;

mod bytes_alias {
    pub use axum::body::Bytes;
}

/// The top-level fields a request body may contain; anything else is rejected with 422
/// `validation_error` naming every unknown field (mass-assignment guard, §6.3).
pub trait KnownFields {
    const FIELDS: &'static [&'static str];
}

/// A JSON body of type `T`. An empty body is read as `{}` (optional bodies, e.g. cancel).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Parses `bytes` as a body of `T` with the contract's errors; shared by [`ApiJson`] and the
/// idempotency fingerprinting that needs the raw value too.
pub fn parse_body<T: DeserializeOwned + KnownFields>(bytes: &[u8]) -> Result<(T, Value), ApiError> {
    let value: Value = if is_empty_body(bytes) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request(
                "invalid_request",
                format!("Request body is not valid JSON: {e}"),
            )
            .with_details(json!({ "line": e.line(), "column": e.column() }))
        })?
    };
    let Value::Object(map) = &value else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    if let Some(field) = nul_field(&value, String::new()) {
        return Err(ApiError::field(
            &field,
            "must not contain a NUL character (U+0000)",
        ));
    }
    let unknown: Vec<&String> = map
        .keys()
        .filter(|k| !T::FIELDS.contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        let fields: serde_json::Map<String, Value> = unknown
            .iter()
            .map(|k| ((*k).clone(), json!(["is not a known field"])))
            .collect();
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            format!("Unknown field(s): {}", names.join(", ")),
        )
        .with_details(json!({ "fields": fields })));
    }
    let parsed: T = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        ApiError::field(&field, e.inner().to_string())
    })?;
    Ok((parsed, value))
}

/// A body of only whitespace counts as absent.
fn is_empty_body(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The path (`attendee.name`, `guests[1]`, a key itself) of the first string in `v` holding a
/// NUL character: Postgres cannot store one, and no client means one.
fn nul_field(v: &Value, path: String) -> Option<String> {
    let here = |p: &str| {
        if p.is_empty() {
            "body".to_string()
        } else {
            p.to_string()
        }
    };
    match v {
        Value::String(s) => s.contains('\0').then(|| here(&path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_field(x, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(here(&p.replace('\0', "\\u0000")));
            }
            nul_field(x, p)
        }),
        _ => None,
    }
}

/// `Content-Type` is JSON: `application/json` or `application/<something>+json`, any
/// parameters (`; charset=utf-8`).
fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// 400 `invalid_request` when `Idempotency-Key` is sent more than once.
pub fn single_idempotency_key(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if headers.get_all("idempotency-key").iter().count() > 1 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Send the Idempotency-Key header once",
        )
        .with_details(json!({ "header": "Idempotency-Key" })));
    }
    Ok(())
}

/// Reads the whole body of a JSON endpoint, mapping the 64 KiB limit to 413
/// `payload_too_large` and a non-empty body that is not typed JSON to 415 `invalid_request`.
/// A repeated `Idempotency-Key` is refused here too, before any write begins.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    single_idempotency_key(req.headers())?;
    let json_typed = is_json_content_type(req.headers());
    let bytes = read_raw_body(req, state).await?;
    if !json_typed && !is_empty_body(&bytes) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "This endpoint takes a JSON body; send it with Content-Type: application/json",
        )
        .with_details(json!({ "header": "Content-Type" })));
    }
    Ok(bytes)
}

/// Reads the whole body, mapping the 64 KiB limit to 413 `payload_too_large`.
async fn read_raw_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request body exceeds the 64 KiB limit",
            )
        } else {
            ApiError::bad_request(
                "invalid_request",
                format!("Could not read the request body: {e}"),
            )
        }
    })
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + KnownFields,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let (parsed, _) = parse_body(&bytes)?;
        Ok(ApiJson(parsed))
    }
}

/// Query parameters as ordered pairs (repeated keys kept).
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

/// The list parameters that may be repeated (`host_user_ids=a&host_user_ids=b`, also with
/// `[]`); every other parameter may appear once.
pub const MULTI_VALUED: &[&str] = &["host_user_ids", "status"];

impl QueryParams {
    /// Parses a raw query string and refuses what no client means: a repeated parameter
    /// (other than [`MULTI_VALUED`]) or a NUL character — 400 `invalid_query_param` naming it.
    pub fn parse_strict(raw: &str) -> Result<Self, ApiError> {
        let q = Self::parse(raw);
        for (i, (k, v)) in q.0.iter().enumerate() {
            if k.contains('\0') || v.contains('\0') {
                let name = k.replace('\0', "\\u0000");
                return Err(ApiError::query_param(
                    &name,
                    format!("{name} must not contain a NUL character (%00)"),
                ));
            }
            let base = k.strip_suffix("[]").unwrap_or(k);
            if !MULTI_VALUED.contains(&base) && q.0[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(ApiError::query_param(
                    k,
                    format!("{k} was given more than once; send it once"),
                ));
            }
        }
        Ok(q)
    }

    /// Parses a raw query string.
    pub fn parse(raw: &str) -> Self {
        Self(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, with comma-separated values split.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k == &format!("{name}[]"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `name` parsed with `FromStr`; a bad value is 400 `invalid_query_param`.
    pub fn parse_opt<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::query_param(name, format!("{name} must be {what}; got '{v}'"))
            }),
        }
    }

    /// A required parameter.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::query_param(name, format!("{name} is required")))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::parse_strict(parts.uri.query().unwrap_or(""))
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| {
                crate::auth_layer::unauthorized(
                    "invalid_token",
                    "The access token is missing, malformed or unknown",
                )
            })
    }
}

impl Auth {
    /// Checks the scope an operation requires: 403 `insufficient_scope` with
    /// `details.required_scope` and the contract's `WWW-Authenticate` header; then the role an
    /// organization-wide write requires: 403 `forbidden`.
    pub fn authorize(&self, op: domain::access::Operation) -> Result<&Principal, ApiError> {
        use domain::access::Denied;
        self.0.authorize(op).map_err(|d| match d {
            Denied::MissingScope(m) => crate::auth_layer::insufficient_scope(m.required),
            Denied::RoleTooLow { .. } => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                d.to_string(),
            ),
        })?;
        Ok(&self.0)
    }
}
