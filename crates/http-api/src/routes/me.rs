//! `GET /v1/me` (§3.2): the token's user and organization (`user:read`).

use crate::envelope;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use api_types::envelope::Data;
use axum::extract::State;
use axum::response::Response;
use domain::access::Operation;
use domain::directory_service::GetDirectoryError;
use domain::organization::{Organization, User};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `data` of `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MeData {
    pub user: MeUser,
    /// `null` when the organization cannot be read.
    pub organization: Option<MeOrganization>,
}

/// The token's user.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MeUser {
    pub id: uuid::Uuid,
    /// The public slug in `https://<host>/<username>`.
    pub username: Option<String>,
    pub email: Option<String>,
    /// `first_name + " " + last_name`, trimmed; `null` when both are empty.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA zone name.
    pub timezone: Option<String>,
    pub locale: Option<String>,
    pub avatar_url: Option<String>,
}

/// The token's organization (the contract's "account").
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MeOrganization {
    pub id: uuid::Uuid,
    pub name: String,
    /// Active plan name, or `null`.
    pub plan: Option<String>,
}

impl MeData {
    /// Renders a user and their organization.
    pub fn of(user: &User, org: Option<&Organization>) -> Self {
        Self {
            user: MeUser {
                id: user.id.0,
                username: user.username.as_ref().map(|u| u.as_str().to_owned()),
                email: Some(user.email.as_str().to_owned()),
                name: user.display_name(),
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                timezone: user.timezone.clone(),
                locale: user.locale.clone(),
                avatar_url: user.avatar_url.clone(),
            },
            organization: org.map(|o| MeOrganization {
                id: o.id.0,
                name: o.name.clone(),
                plan: o.plan.clone(),
            }),
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The user the token acts for, and their organization.
#[utoipa::path(get, path = "/v1/me", tag = "meta", operation_id = "getMe",
    responses(
        (status = 200, description = "The token's user and organization", body = Data<MeData>),
        (status = 401, description = "`invalid_token`, `token_expired` or `token_revoked`", body = ErrorEnvelope),
        (status = 403, description = "`insufficient_scope` (needs `user:read`)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: the token's user was deleted", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = ErrorEnvelope),
    ))]
async fn me(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::Me)?;
    let (user, org) = state
        .services
        .directory
        .me(p.organization_id, p.user_id)
        .await
        .map_err(|e| match e {
            GetDirectoryError::UserNotFound | GetDirectoryError::OrganizationNotFound => {
                ApiError::not_found("not_found", "The token's user no longer exists")
            }
            GetDirectoryError::Unknown(e) => ApiError::internal(e),
        })?;
    Ok(envelope::ok(&MeData::of(&user, org.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{OrganizationId, UserId};
    use domain::organization::{Role, Username};
    use domain::validate::Email;

    #[test]
    fn me_shape() {
        let org_id = uuid::Uuid::from_u128(1);
        let user_id = uuid::Uuid::from_u128(2);
        let user = User {
            id: UserId(user_id),
            organization_id: OrganizationId(org_id),
            username: Some(Username::parse("ada").unwrap()),
            email: Email::parse("ada@example.com").unwrap(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            timezone: Some("Europe/London".into()),
            locale: None,
            avatar_url: None,
            role: Role::Owner,
            password_hash: Some("$argon2id$secret".into()),
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let org = Organization {
            id: OrganizationId(org_id),
            name: "Acme".into(),
            plan: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let v = serde_json::to_value(MeData::of(&user, Some(&org))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "user": {
                    "id": user_id.to_string(), "username": "ada", "email": "ada@example.com",
                    "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
                    "timezone": "Europe/London", "locale": null, "avatar_url": null,
                },
                "organization": {"id": org_id.to_string(), "name": "Acme", "plan": null},
            })
        );
        let v = serde_json::to_value(MeData::of(&user, None)).unwrap();
        assert_eq!(v["organization"], serde_json::Value::Null);
        assert!(!v.to_string().contains("argon2"));
    }
}
