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
    if decision.allowed {
        // Page responses carry no rate-limit headers (they are for API clients); only the
        // refusal says when to come back.
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
        decision.apply(r.headers_mut());
        r
    }
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

/// True when the client asked for HTML (browsers do); API clients asking for anything else
/// keep getting the JSON 404 envelope on unknown paths.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// The 404 of a page path: the HTML page for browsers, the API's envelope otherwise.
pub fn not_found(state: &AppState, headers: &HeaderMap) -> Response {
    if !wants_html(headers) {
        return super::api_not_found();
    }
    page(
        state,
        StatusCode::NOT_FOUND,
        pages::booking::not_found(
            "Page not found",
            "There is no booking page at this address. Check the link you were given.",
        ),
    )
}

/// A logged 500 page (the cause goes to the log, never to the page). A write whose
/// idempotency reservation was taken over after its lease (nothing committed) gets the same
/// "still working on it" page as a form still being processed.
pub fn server_error(state: &AppState, e: &anyhow::Error) -> Response {
    if domain::ports::reservation_lost(e) {
        tracing::warn!("booking page: the form's reservation was taken over; nothing committed");
        return page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            pages::booking::not_found(
                "Still working on it",
                "Your request is still being processed. Reload this page in a moment.",
            ),
        );
    }
    if domain::ports::unavailable_kind(e).is_some() {
        tracing::warn!(error = %format!("{e:#}"), "booking page refused: store unavailable");
        let mut resp = page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            pages::booking::not_found(
                "Busy right now",
                "The server is busy. Please try again in a moment.",
            ),
        );
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(crate::error::RETRY_AFTER_SECS),
        );
        return resp;
    }
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

/// The booking pages' CSRF cookie: a random nonce, `HttpOnly`, `SameSite=Lax`, `Secure`
/// unless the public base URL is loopback `http://`.
pub const CSRF_COOKIE: &str = "slotbook_pages";

/// A browser's CSRF state: its cookie nonce and the form token derived from it.
pub struct Csrf {
    pub nonce: String,
    /// The hidden `csrf_token` field: HMAC-SHA256(pepper, label ‖ nonce), base64url.
    pub token: String,
    /// Set when the nonce is new.
    pub set_cookie: Option<HeaderValue>,
}

fn csrf_token(state: &AppState, nonce: &str) -> String {
    use base64::Engine;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, state.pepper.expose());
    let tag = ring::hmac::sign(&key, format!("slotbook-pages-csrf:{nonce}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

fn cookie_nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == CSRF_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            (16..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The CSRF state for a page with a form: the browser's nonce, or a new one to set.
pub fn csrf(state: &AppState, headers: &HeaderMap) -> Option<Csrf> {
    if let Some(nonce) = cookie_nonce(headers) {
        return Some(Csrf {
            token: csrf_token(state, &nonce),
            nonce,
            set_cookie: None,
        });
    }
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut b = [0u8; 24];
    ring::rand::SystemRandom::new().fill(&mut b).ok()?;
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let base = state.config.public_base_url.as_str();
    let loopback_http = base.starts_with("http://127.")
        || base.starts_with("http://localhost")
        || base.starts_with("http://[::1]");
    let secure = if loopback_http { "" } else { "; Secure" };
    let set_cookie = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok();
    Some(Csrf {
        token: csrf_token(state, &nonce),
        nonce,
        set_cookie,
    })
}

/// The nonce of a POST whose `csrf_token` matches its cookie (constant-time), else `None`.
pub fn check_csrf(
    state: &AppState,
    headers: &HeaderMap,
    presented: Option<&str>,
) -> Option<String> {
    let nonce = cookie_nonce(headers)?;
    let presented = presented.filter(|p| !p.is_empty())?;
    auth::oauth::constant_time_eq(csrf_token(state, &nonce).as_bytes(), presented.as_bytes())
        .then_some(nonce)
}

/// The idempotency owner of a browser's form submissions: its CSRF cookie, hashed.
pub fn form_owner(nonce: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, nonce.as_bytes());
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("page:{hex}")
}

/// The 403 page of a form whose CSRF token is missing or wrong.
pub fn csrf_refused(state: &AppState, back: &str) -> Response {
    let _ = back;
    page(
        state,
        StatusCode::FORBIDDEN,
        pages::booking::not_found(
            "This form has expired",
            "For your safety the form could not be sent: it is too old or was opened in another browser. Go back, reload the page and try again.",
        ),
    )
}
