//! The token endpoint (`authorization_code`, `refresh_token`), revocation (RFC 7009) and
//! introspection (RFC 7662), with client authentication by `client_secret_basic`,
//! `client_secret_post` or `none` (RFC 6749 §2.3.1).

use super::{base, invalid_request, no_store, parse_form, raw_json, token_error};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::oauth_service::{ClientCredentials, TokenError, TokenRequest};
use serde::Serialize;
use std::collections::HashMap;

/// Client authentication from `Authorization: Basic` or the form (RFC 6749 §2.3.1).
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<ClientCredentials, Response> {
    let body_id = form.get("client_id").filter(|s| !s.is_empty()).cloned();
    let body_secret = form.get("client_secret").filter(|s| !s.is_empty()).cloned();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let basic_fail = || {
            token_error(TokenError::InvalidClient {
                basic: true,
                description: "Malformed HTTP Basic client credentials".into(),
            })
        };
        let value = value.to_str().map_err(|_| basic_fail())?;
        let (scheme, b64) = value.trim().split_once(' ').ok_or_else(basic_fail)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(invalid_request(
                "Only HTTP Basic client authentication is accepted in the Authorization header",
            ));
        }
        if body_secret.is_some() {
            return Err(invalid_request(
                "Use one client authentication method, not Basic and client_secret together",
            ));
        }
        let decoded = STANDARD.decode(b64.trim()).map_err(|_| basic_fail())?;
        let decoded = String::from_utf8(decoded).map_err(|_| basic_fail())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(basic_fail)?;
        let unescape = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (id, secret) = (unescape(id), unescape(secret));
        if body_id.as_ref().is_some_and(|b| *b != id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        return Ok(ClientCredentials::Basic {
            client_id: id,
            secret,
        });
    }
    Ok(match (body_id, body_secret) {
        (Some(client_id), Some(secret)) => ClientCredentials::Post { client_id, secret },
        (Some(client_id), None) => ClientCredentials::None { client_id },
        (None, _) => ClientCredentials::Missing,
    })
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

/// The form and the client authentication of a request to the token, revocation or
/// introspection endpoint; the RFC 6749 error response when either is malformed.
fn client_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(HashMap<String, String>, ClientCredentials), Response> {
    let form = parse_form(body).map_err(|e| invalid_request(&e))?;
    let creds = client_credentials(headers, &form)?;
    Ok((form, creds))
}

pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, creds) = match client_request(&headers, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let get = |k: &str| form.get(k).cloned();
    let req = TokenRequest {
        grant_type: get("grant_type"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        code_verifier: get("code_verifier"),
        refresh_token: get("refresh_token"),
        scope: get("scope"),
    };
    let issued = match state.oauth.token(&creds, &req).await {
        Ok(issued) => issued,
        Err(e) => return token_error(e),
    };
    let body = TokenResponse {
        access_token: &issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scopes.to_string(),
        refresh_token: issued.refresh_token.as_deref(),
    };
    match serde_json::to_string(&body) {
        Ok(s) => raw_json(StatusCode::OK, s),
        Err(e) => token_error(TokenError::Store(domain::ports::StoreError::Unknown(
            e.into(),
        ))),
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, creds) = match client_request(&headers, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match state
        .oauth
        .revoke(&creds, form.get("token").map(String::as_str))
        .await
    {
        Ok(()) => {
            let mut r = StatusCode::OK.into_response();
            no_store(&mut r);
            r
        }
        Err(e) => token_error(e),
    }
}

#[derive(Serialize)]
struct ActiveToken<'a> {
    active: bool,
    scope: String,
    client_id: &'a str,
    username: &'a str,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    sub: String,
    iss: &'a str,
}

pub(super) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, creds) = match client_request(&headers, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match state
        .oauth
        .introspect(&creds, form.get("token").map(String::as_str))
        .await
    {
        Err(e) => token_error(e),
        Ok(None) => raw_json(StatusCode::OK, "{\"active\":false}".to_owned()),
        Ok(Some(i)) => {
            let body = ActiveToken {
                active: true,
                scope: i.scopes.to_string(),
                client_id: &i.client_id,
                username: &i.username,
                token_type: match i.kind {
                    domain::oauth::TokenKind::Access => "Bearer",
                    domain::oauth::TokenKind::Refresh => "refresh_token",
                },
                exp: i.expires_at.as_second(),
                iat: i.issued_at.as_second(),
                sub: i.subject.to_string(),
                iss: base(&state),
            };
            raw_json(
                StatusCode::OK,
                serde_json::to_string(&body).unwrap_or_else(|_| "{\"active\":false}".into()),
            )
        }
    }
}
