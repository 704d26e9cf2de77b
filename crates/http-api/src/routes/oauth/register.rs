//! `POST /v1/oauth/register`: RFC 7591 Dynamic Client Registration (routed only when
//! `[oauth] dynamic_registration` is on; §6.1.2). JSON in, `201` with the client information
//! response (§3.2.1) out; refusals are `400` with the §3.2.2 error body
//! (`invalid_redirect_uri`, `invalid_client_metadata`). Unknown metadata fields are ignored
//! (RFC 7591 §2). The rules live in [`domain::oauth_service::OAuthService::register_client`].

use super::{raw_json, token_error};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use domain::oauth_service::{ClientRegistration, RegistrationError, TokenError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Request {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    scope: Option<String>,
}

#[derive(Serialize)]
struct Registered<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    client_id_issued_at: i64,
    /// 0 = the secret does not expire (present only with a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    client_name: &'a str,
    redirect_uris: &'a [String],
    token_endpoint_auth_method: &'a str,
    grant_types: &'a [String],
    response_types: [&'static str; 1],
    scope: String,
}

fn refusal(error: &str, description: &str) -> Response {
    raw_json(
        StatusCode::BAD_REQUEST,
        super::error_body(error, description),
    )
}

pub(super) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return refusal(
            "invalid_client_metadata",
            "Send the client metadata as a JSON object with Content-Type: application/json",
        );
    }
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refusal(
                "invalid_client_metadata",
                &format!("The client metadata is not valid: {e}"),
            );
        }
    };
    let result = state
        .oauth
        .register_client(ClientRegistration {
            redirect_uris: req.redirect_uris,
            client_name: req.client_name,
            token_endpoint_auth_method: req.token_endpoint_auth_method,
            grant_types: req.grant_types,
            response_types: req.response_types,
            scope: req.scope,
        })
        .await;
    match result {
        Err(RegistrationError::Invalid { error, description }) => refusal(error, &description),
        Err(RegistrationError::Store(e)) => token_error(TokenError::Store(e)),
        Ok(r) => {
            let body = Registered {
                client_id: &r.client.client_id,
                client_secret: r.secret.as_deref(),
                client_id_issued_at: r.client.created_at.as_second(),
                client_secret_expires_at: r.secret.as_ref().map(|_| 0),
                client_name: &r.client.name,
                redirect_uris: &r.client.redirect_uris,
                token_endpoint_auth_method: &r.token_endpoint_auth_method,
                grant_types: &r.grant_types,
                response_types: ["code"],
                scope: r.client.allowed_scopes.to_string(),
            };
            match serde_json::to_string(&body) {
                Ok(s) => raw_json(StatusCode::CREATED, s),
                Err(e) => token_error(TokenError::Store(domain::ports::StoreError::Unknown(
                    e.into(),
                ))),
            }
        }
    }
}
