//! Wire plumbing shared by the resource routes (bookings, event types, schedules, slots): the
//! `KnownFields` impls of the `api-types` request bodies, the raw-body extractor, `If-Match` /
//! `ETag`, pagination parameters and the RFC 8288 `Link: <…>; rel="next"` header.

use crate::error::ApiError;
use crate::extract::{KnownFields, QueryParams, read_body};
use crate::state::AppState;
use api_types::WireFields;
use api_types::preconditions::{etag, parse_if_match};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use domain::pagination::{Cursor, CursorKind, Limit, Page, PageRequest};
use serde::Serialize;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! known_fields {
    ($($t:ty),* $(,)?) => {
        $( impl KnownFields for $t { const FIELDS: &'static [&'static str] = <$t as WireFields>::FIELDS; } )*
    };
}

known_fields!(
    api_types::booking_request::CreateBookingRequest,
    api_types::booking_request::CancelRequest,
    api_types::booking_request::ConfirmRequest,
    api_types::booking_request::DeclineRequest,
    api_types::booking_request::RescheduleRequest,
    api_types::booking_request::PatchBookingRequest,
    api_types::event_type_request::CreateEventTypeRequest,
    api_types::event_type_request::PatchEventTypeRequest,
    api_types::schedule::CreateScheduleRequest,
    api_types::schedule::PatchScheduleRequest,
);

/// The request body as bytes (64 KiB limit → 413 `payload_too_large`), for handlers that need
/// the raw JSON (idempotency fingerprints, `field_immutable`).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(req, state).await.map(RawBody)
    }
}

/// A path id that must be a UUID; anything else (including undecodable segments) is the
/// resource's 404.
pub fn path_id<T: From<Uuid>>(
    path: Result<Path<String>, PathRejection>,
    code: &'static str,
    what: &str,
) -> Result<T, ApiError> {
    path.ok()
        .and_then(|Path(s)| Uuid::parse_str(&s).ok())
        .map(T::from)
        .ok_or_else(|| ApiError::not_found(code, format!("{what} not found")))
}

/// The expected version from `If-Match`: absent → 428 `missing_if_match`; not `"<int>"` or
/// `W/"<int>"` → 400 `invalid_if_match`.
pub fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "missing_if_match",
            "The If-Match header is required; send the ETag from the last read, e.g. If-Match: \"3\"",
        ));
    };
    v.to_str().ok().and_then(parse_if_match).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_if_match",
            "If-Match must be a quoted integer version such as \"3\" or W/\"3\"",
        )
    })
}

/// 409 `version_conflict` for a stale `If-Match`.
pub fn version_conflict(message: &str) -> ApiError {
    ApiError::conflict("version_conflict", message)
}

/// 409 `conflict`: "The `noun` is still in use: `what`".
pub fn in_use(noun: &str, what: &str) -> ApiError {
    ApiError::conflict("conflict", format!("The {noun} is still in use: {what}"))
}

/// Adds `ETag: "<version>"`.
pub fn with_etag(mut resp: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// `limit` (integer ≥ 1, clamped to 100) and `cursor` (made for `sort`, keyed by `kind`), as
/// 400 `invalid_query_param` when bad.
pub fn page_request(
    q: &QueryParams,
    sort: &str,
    kind: CursorKind,
) -> Result<PageRequest, ApiError> {
    let limit = match q.get("limit") {
        None => Limit::default(),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("limit must be an integer between 1 and 100; got '{v}'"))
            .and_then(Limit::new)
            .map_err(|m| ApiError::query_param("limit", m))?,
    };
    let after = match q.get("cursor") {
        None | Some("") => None,
        Some(c) => {
            Some(Cursor::decode_as(c, sort, kind).map_err(|m| ApiError::query_param("cursor", m))?)
        }
    };
    Ok(PageRequest { limit, after })
}

/// A UUID query parameter.
pub fn uuid_param<T: From<Uuid>>(q: &QueryParams, name: &str) -> Result<Option<T>, ApiError> {
    Ok(q.parse_opt::<Uuid>(name, "a UUID")?.map(T::from))
}

/// `"true"` / `"false"`.
pub fn bool_param(q: &QueryParams, name: &str) -> Result<Option<bool>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(ApiError::query_param(
            name,
            format!("{name} must be true or false; got '{v}'"),
        )),
    }
}

/// A parameter parsed with `FromStr`-like logic and a custom message.
pub fn parsed_param<T>(
    q: &QueryParams,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| {
            ApiError::query_param(name, format!("{name} must be {expected}; got '{v}'"))
        }),
    }
}

/// The `Link` header pointing at the next page: the same path and parameters with `cursor`
/// replaced.
pub fn next_link(
    state: &AppState,
    path: &str,
    q: &QueryParams,
    cursor: &str,
) -> Option<HeaderValue> {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in q.0.iter().filter(|(k, _)| k != "cursor") {
        ser.append_pair(k, v);
    }
    ser.append_pair("cursor", cursor);
    let base = state.config.public_base_url.trim_end_matches('/');
    HeaderValue::from_str(&format!("<{base}{path}?{}>; rel=\"next\"", ser.finish())).ok()
}

/// A list page response with `meta.next_cursor`/`has_more` and, when there is a next page,
/// the `Link` header.
pub fn paged<T: Serialize>(
    state: &AppState,
    path: &str,
    q: &QueryParams,
    items: &[T],
    next_cursor: Option<&str>,
    has_more: bool,
) -> Response {
    let mut resp = crate::envelope::page(items, next_cursor, has_more);
    if has_more
        && let Some(c) = next_cursor
        && let Some(link) = next_link(state, path, q, c)
    {
        resp.headers_mut().insert(header::LINK, link);
    }
    resp
}

/// [`paged`] for a page read from the store, rendered as `items`.
pub fn store_page<T: Serialize, R>(
    state: &AppState,
    path: &str,
    q: &QueryParams,
    items: &[T],
    page: &Page<R>,
) -> Response {
    paged(
        state,
        path,
        q,
        items,
        page.next_cursor.as_deref(),
        page.has_more,
    )
}

/// The users with these ids that exist in `org` (duplicates and unknown ids skipped).
pub async fn users_by_id(
    state: &AppState,
    org: domain::ids::OrganizationId,
    ids: Vec<domain::ids::UserId>,
) -> Result<Vec<domain::organization::User>, ApiError> {
    Ok(state.services.directory.users_by_id(org, ids).await?)
}

/// Parses `s` or gives `None` (for [`parsed_param`]).
pub fn from_str<T: FromStr>(s: &str) -> Option<T> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_errors() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).unwrap_err().code, "missing_if_match");
        assert_eq!(
            if_match(&h).unwrap_err().status,
            StatusCode::PRECONDITION_REQUIRED
        );
        h.insert(header::IF_MATCH, HeaderValue::from_static("3"));
        assert_eq!(if_match(&h).unwrap_err().code, "invalid_if_match");
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"3\""));
        assert_eq!(if_match(&h).unwrap(), 3);
    }

    #[test]
    fn page_params() {
        let q = QueryParams::parse("limit=500");
        assert_eq!(
            page_request(&q, "s", CursorKind::Instant)
                .unwrap()
                .limit
                .get(),
            100
        );
        for bad in ["limit=0", "limit=abc", "limit=-1", "limit=1.5"] {
            let e = page_request(&QueryParams::parse(bad), "s", CursorKind::Instant).unwrap_err();
            assert_eq!(
                (e.code, e.details["param"].as_str()),
                ("invalid_query_param", Some("limit")),
                "{bad}"
            );
        }
        let e = page_request(
            &QueryParams::parse("cursor=%21%21"),
            "s",
            CursorKind::Instant,
        )
        .unwrap_err();
        assert_eq!(e.details["param"], "cursor");
    }

    #[test]
    fn bools() {
        let q = QueryParams::parse("a=true&b=false&c=yes");
        assert_eq!(bool_param(&q, "a").unwrap(), Some(true));
        assert_eq!(bool_param(&q, "b").unwrap(), Some(false));
        assert_eq!(bool_param(&q, "z").unwrap(), None);
        assert_eq!(bool_param(&q, "c").unwrap_err().details["param"], "c");
    }
}
