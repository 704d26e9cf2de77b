//! OAuth 2.1 endpoints (§5, §6.2) and discovery, one module per concept:
//! - [`authorize`]: `GET|POST /v1/oauth/authorize` (sign-in and consent pages) and their
//!   stylesheet at `pages::oauth_css_url()` (`/v1/oauth/style-<hash>.css`);
//! - [`token`]: `POST /v1/oauth/token`, `/revoke` (RFC 7009), `/introspect` (RFC 7662);
//! - [`register`]: `POST /v1/oauth/register` (RFC 7591), routed only when
//!   `[oauth] dynamic_registration` is on (404 otherwise);
//! - [`discovery`]: `/.well-known/oauth-authorization-server` (RFC 8414) and
//!   `/.well-known/oauth-protected-resource` (RFC 9728).
//!
//! Bodies are raw (no v1 envelope); token endpoint errors are RFC 6749 §5.2 bodies written with
//! the `oauth2` crate's wire types. The per-IP limits of §2.4 (`oauth_authorize` 30,
//! `oauth_token` 60, `oauth_revoke` 60, `oauth_introspect` 120, `oauth_register` 5 per minute)
//! are applied by the middleware ([`crate::auth_layer::guard`]) before these handlers run.
//!
//! The authorize flow is stateless on the server: a session cookie (`slotbook_oauth`,
//! `HttpOnly`, `SameSite=Lax`, `Secure` unless the public base URL is loopback http, path
//! `/v1/oauth/`) carries `<org>.<user>.<csrf>` sealed with HMAC-SHA256 under the pepper; every
//! form carries the same CSRF token (double submit, compared in constant time). The handlers
//! only parse, call [`domain::oauth_service::OAuthService`] and render `pages`.

mod authorize;
mod discovery;
mod register;
mod token;

pub use discovery::{authorization_server_document, protected_resource_document};

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::oauth_service::TokenError;
use oauth2::StandardErrorResponse;
use oauth2::basic::BasicErrorResponseType;
use std::collections::HashMap;

/// The OAuth and discovery routes (undocumented in OpenAPI: raw RFC bodies); the registration
/// endpoint only when `dynamic_registration` is on.
pub fn router(dynamic_registration: bool) -> Router<AppState> {
    let r = Router::new()
        .route(
            "/v1/oauth/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(pages::oauth_css_url(), get(authorize::stylesheet))
        .route("/v1/oauth/token", post(token::token))
        .route("/v1/oauth/revoke", post(token::revoke))
        .route("/v1/oauth/introspect", post(token::introspect))
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(discovery::protected_resource_metadata),
        );
    if dynamic_registration {
        r.route("/v1/oauth/register", post(register::register))
    } else {
        r
    }
}

// ---- form parsing ----

/// Parses `application/x-www-form-urlencoded`; a repeated parameter is an error (RFC 6749 §3.1).
pub(super) fn parse_form(bytes: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(format!("parameter '{k}' is repeated"));
        }
    }
    Ok(out)
}

pub(super) fn base(state: &AppState) -> &str {
    state.config.public_base_url.trim_end_matches('/')
}

// ---- RFC 6749 §5.2 errors ----

fn oauth_error_type(code: &str) -> BasicErrorResponseType {
    match code {
        "invalid_request" => BasicErrorResponseType::InvalidRequest,
        "invalid_client" => BasicErrorResponseType::InvalidClient,
        "invalid_grant" => BasicErrorResponseType::InvalidGrant,
        "unauthorized_client" => BasicErrorResponseType::UnauthorizedClient,
        "unsupported_grant_type" => BasicErrorResponseType::UnsupportedGrantType,
        "invalid_scope" => BasicErrorResponseType::InvalidScope,
        other => BasicErrorResponseType::Extension(other.to_owned()),
    }
}

pub(super) fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

pub(super) fn raw_json(status: StatusCode, body: String) -> Response {
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    no_store(&mut resp);
    resp
}

pub(super) fn error_body(code: &str, description: &str) -> String {
    let e: StandardErrorResponse<BasicErrorResponseType> =
        StandardErrorResponse::new(oauth_error_type(code), Some(description.to_owned()), None);
    serde_json::to_string(&e).unwrap_or_else(|_| format!("{{\"error\":\"{code}\"}}"))
}

pub(super) fn token_error(e: TokenError) -> Response {
    let (status, desc, basic) = match &e {
        TokenError::InvalidClient { basic, description } => {
            (StatusCode::UNAUTHORIZED, description.clone(), *basic)
        }
        TokenError::InvalidRequest(d)
        | TokenError::InvalidGrant(d)
        | TokenError::UnauthorizedClient(d)
        | TokenError::UnsupportedGrantType(d)
        | TokenError::InvalidScope(d) => (StatusCode::BAD_REQUEST, d.clone(), false),
        TokenError::Store(err) => {
            tracing::error!(error = ?err, "OAuth endpoint store failure");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server failed; retry later".to_owned(),
                false,
            )
        }
    };
    let mut resp = raw_json(status, error_body(e.code(), &desc));
    if basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"42min\""),
        );
    }
    resp
}

pub(super) fn invalid_request(d: &str) -> Response {
    token_error(TokenError::InvalidRequest(d.to_owned()))
}
