//! What keeps the booking pages safe by default: per-IP rate limits in their own buckets
//! (`page_view` for GET and HEAD, `page_submit` for POST), and the response headers of every
//! page — a CSP without inline script or style (`default-src 'none'`; styles, the one script
//! and form targets only from this origin; `frame-ancestors` from `[pages] frame_ancestors`),
//! `Referrer-Policy: no-referrer` (invitee links carry a secret and must never leak through
//! `Referer`), `X-Content-Type-Options: nosniff`, `Cache-Control: no-store`, and
//! `X-Frame-Options: DENY` while embedding is forbidden.

use crate::auth_layer::client_ip;
use crate::rate_limit::{self, Bucket, BucketKind};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Counts the request against its page bucket; over the limit → an HTML 429 page with
/// `Retry-After`. Paths that are not pages (see [`super::is_page_user`]) and assets pass
/// uncounted.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if first == "_assets" || !(first == "_b" || super::is_page_user(first)) {
        return next.run(req).await;
    }
    let kind = if req.method() == Method::POST {
        BucketKind::PageSubmit
    } else {
        BucketKind::PageView
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &state.config.trusted_proxies);
    let decision = rate_limit::check(&state, &Bucket::page(kind, ip)).await;
    let mut resp = if decision.allowed {
        next.run(req).await
    } else {
        let wait = decision.seconds_to_reset();
        let mut r = page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            pages::booking::not_found(
                "Too many requests",
                &format!(
                    "This address has sent too many requests. Please wait {wait} seconds and try again."
                ),
            ),
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    decision.apply(resp.headers_mut());
    resp
}

/// The page headers for this deployment.
pub fn apply_headers(state: &AppState, headers: &mut HeaderMap) {
    let ancestors = state.config.pages.frame_ancestors.trim();
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if ancestors == "'none'" {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
}

/// An HTML page response with the page headers; a rendering failure is a logged 500 page.
pub fn page(state: &AppState, status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let (status, body) = match body {
        Ok(b) => (status, b),
        Err(e) => {
            tracing::error!(error = %e, "rendering a booking page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::booking::not_found(
                    "Something went wrong",
                    "The server failed. Please try again in a moment.",
                )
                .unwrap_or_else(|_| "Something went wrong".to_owned()),
            )
        }
    };
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    apply_headers(state, resp.headers_mut());
    resp
}

/// The HTML 404 page.
pub fn not_found(state: &AppState) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        pages::booking::not_found(
            "Page not found",
            "There is no booking page at this address. Check the link you were given.",
        ),
    )
}

/// A logged 500 page (the cause goes to the log, never to the page).
pub fn server_error(state: &AppState, e: &anyhow::Error) -> Response {
    tracing::error!(error = ?e, "booking page failed");
    page(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::booking::not_found(
            "Something went wrong",
            "The server failed. Please try again in a moment.",
        ),
    )
}

/// `303 See Other` to `location` with the page headers.
pub fn see_other(state: &AppState, location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    apply_headers(state, resp.headers_mut());
    resp
}
