//! Discovery: the RFC 8414 authorization server metadata (§5.3) and the RFC 9728 protected
//! resource metadata (§6.2). `registration_endpoint` appears only when registration is on.

use super::base;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
struct AuthorizationServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_endpoint: Option<String>,
    response_types_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    revocation_endpoint_auth_methods_supported: [&'static str; 3],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    scopes_supported: &'static [&'static str],
}

/// The RFC 8414 document (§5.3).
pub fn authorization_server_document(base: &str, registration: bool) -> String {
    let doc = AuthorizationServerMetadata {
        issuer: base.to_owned(),
        authorization_endpoint: format!("{base}/v1/oauth/authorize"),
        token_endpoint: format!("{base}/v1/oauth/token"),
        revocation_endpoint: format!("{base}/v1/oauth/revoke"),
        introspection_endpoint: format!("{base}/v1/oauth/introspect"),
        registration_endpoint: registration.then(|| format!("{base}/v1/oauth/register")),
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
        ],
        scopes_supported: domain::access::ACTIVE_AND_RESERVED_SCOPES,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[derive(Serialize)]
struct ProtectedResourceMetadata<'a> {
    resource: &'a str,
    authorization_servers: [&'a str; 1],
    scopes_supported: &'static [&'static str],
    bearer_methods_supported: [&'static str; 1],
}

/// The RFC 9728 document (§6.2).
pub fn protected_resource_document(base: &str) -> String {
    serde_json::to_string(&ProtectedResourceMetadata {
        resource: base,
        authorization_servers: [base],
        scopes_supported: domain::access::ACTIVE_AND_RESERVED_SCOPES,
        bearer_methods_supported: ["header"],
    })
    .unwrap_or_default()
}

fn discovery(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub(super) async fn authorization_server_metadata(State(state): State<AppState>) -> Response {
    discovery(authorization_server_document(
        base(&state),
        state.config.oauth_dynamic_registration,
    ))
}

pub(super) async fn protected_resource_metadata(State(state): State<AppState>) -> Response {
    discovery(protected_resource_document(base(&state)))
}
