//! `GET /v1/_ping` (§3.1, §6.1.5): any valid token; reports who the token is.

use crate::envelope;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use api_types::envelope::Data;
use axum::response::Response;
use domain::access::{Credential, Operation, Principal};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `data` of `GET /v1/_ping`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PingData {
    /// Always `true`.
    pub ok: bool,
    /// `pat` or `oauth`.
    #[schema(example = "pat")]
    pub auth_type: String,
    /// The organization (account) the token is bound to.
    pub account_id: uuid::Uuid,
    /// The token's scopes, aliases expanded, sorted.
    pub scopes: Vec<String>,
    /// The OAuth client; only for OAuth access tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl PingData {
    /// Describes a principal.
    pub fn of(p: &Principal) -> Self {
        let mut scopes: Vec<String> = p.scopes.iter().map(str::to_owned).collect();
        scopes.sort();
        Self {
            ok: true,
            auth_type: p.auth_type().to_owned(),
            account_id: p.organization_id.0,
            scopes,
            client_id: match &p.credential {
                Credential::OAuth { client_id } => Some(client_id.clone()),
                Credential::Pat { .. } => None,
            },
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ping))
}

/// Checks a token and reports its account, kind and scopes.
#[utoipa::path(get, path = "/v1/_ping", tag = "meta", operation_id = "ping",
    responses(
        (status = 200, description = "The token is valid", body = Data<PingData>),
        (status = 401, description = "`invalid_token`, `token_expired` or `token_revoked`", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = ErrorEnvelope),
    ))]
async fn ping(auth: Auth) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::Ping)?;
    Ok(envelope::ok(&PingData::of(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{OrganizationId, TokenId, UserId};

    #[test]
    fn ping_data_for_pat_and_oauth() {
        let org = uuid::Uuid::from_u128(42);
        let mut p = Principal {
            organization_id: OrganizationId(org),
            user_id: UserId(uuid::Uuid::nil()),
            credential: Credential::Pat {
                token_id: TokenId(uuid::Uuid::nil()),
            },
            scopes: domain::access::expand(["user:read", "bookings:write"]).unwrap(),
            role: domain::organization::Role::Owner,
        };
        let v = serde_json::to_value(PingData::of(&p)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "ok": true,
                "auth_type": "pat",
                "account_id": org.to_string(),
                "scopes": ["bookings:cancel", "bookings:create", "bookings:reschedule",
                           "bookings:update", "user:read"],
            })
        );
        p.credential = Credential::OAuth {
            client_id: "42min_client".into(),
        };
        let v = serde_json::to_value(PingData::of(&p)).unwrap();
        assert_eq!(v["auth_type"], "oauth");
        assert_eq!(v["client_id"], "42min_client");
    }
}
