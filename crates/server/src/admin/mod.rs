//! Administration without a dashboard (§7.6): plain async functions that create and list
//! organizations, users, schedules, event types and personal access tokens by calling the same
//! domain services as the HTTP API (no store access of their own).
//!
//! The CLI (`slotbook admin …`), `slotbook demo`, the testkit and the tests all call these same
//! functions; they return domain objects and never print. Refusals the operator can act on are
//! [`AdminError`]s (wrapped in `anyhow::Error`, so callers may downcast); messages never contain
//! a secret.

mod directory;
mod event_types;
mod schedules;
mod tokens;
mod webhooks;

pub use directory::{
    NewUser, create_org, create_user, list_orgs, list_users, remove_user, set_password, set_role,
};
pub use event_types::{NewEventType, create_event_type, list_event_types};
pub use schedules::{NewSchedule, create_schedule, list_schedules, parse_override, parse_rule};
pub use tokens::{Expiry, NewToken, TokenStatus, create_token, list_tokens, revoke_token};
pub use webhooks::{OPERATOR_PAUSE_REASON, list_webhooks, set_webhook_paused};

use auth::Pepper;
use domain::directory_service::GetDirectoryError;
use domain::ports::{Clock, IdGen, Storage};
use domain::{OrganizationId, UserId};
use http_api::state::Services;
use std::sync::Arc;

/// What every administrative function needs.
#[derive(Clone)]
pub struct AdminContext {
    pub store: Arc<dyn Storage>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    /// Keys the hashes of minted tokens; must be the pepper the server runs with.
    pub pepper: Pepper,
}

/// A refusal with a message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("organization {0} not found")]
    OrganizationNotFound(OrganizationId),
    #[error("user {user} not found in organization {org}")]
    UserNotFound { org: OrganizationId, user: UserId },
    #[error(
        "user {user} has the role '{role}'; only owners and admins may own personal access tokens"
    )]
    MayNotOwnTokens { user: UserId, role: &'static str },
    #[error(
        "user {user} has no availability schedule; create one first with `slotbook admin schedule create --org {org} --user {user} …`"
    )]
    HostWithoutSchedule { org: OrganizationId, user: UserId },
    #[error("token {0} not found or already revoked")]
    TokenNotFound(domain::TokenId),
    #[error("{0}")]
    Invalid(String),
}

impl AdminContext {
    /// The current instant truncated to milliseconds, the precision stores keep, so a created
    /// object equals what a later read returns.
    pub fn now(&self) -> jiff::Timestamp {
        let now = self.clock.now();
        jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
    }

    /// The domain services over this context's store, clock, ids and pepper.
    pub fn services(&self) -> Services {
        Services::new(
            self.store.clone(),
            self.clock.clone(),
            self.ids.clone(),
            crate::wiring::event_encoder(""),
            self.pepper.clone(),
        )
    }

    /// The organization, or `OrganizationNotFound`.
    pub(crate) async fn organization(
        &self,
        org: OrganizationId,
    ) -> anyhow::Result<domain::organization::Organization> {
        self.services()
            .directory
            .organization(org)
            .await
            .map_err(|e| directory_error(e, org, None))
    }

    /// The user of `org`, or `UserNotFound`.
    pub(crate) async fn user(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> anyhow::Result<domain::organization::User> {
        self.services()
            .directory
            .user(org, user)
            .await
            .map_err(|e| directory_error(e, org, Some(user)))
    }
}

/// A directory read error as an operator refusal.
pub(crate) fn directory_error(
    e: GetDirectoryError,
    org: OrganizationId,
    user: Option<UserId>,
) -> anyhow::Error {
    match (e, user) {
        (GetDirectoryError::OrganizationNotFound, _) => {
            AdminError::OrganizationNotFound(org).into()
        }
        (GetDirectoryError::UserNotFound, Some(user)) => {
            AdminError::UserNotFound { org, user }.into()
        }
        (GetDirectoryError::UserNotFound, None) => anyhow::anyhow!("user not found"),
        (GetDirectoryError::Unknown(e), _) => e,
    }
}

/// Joins field errors into one operator message.
pub(crate) fn field_errors(what: &str, errors: &domain::validate::FieldErrors) -> anyhow::Error {
    let list: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    AdminError::Invalid(format!("invalid {what}: {}", list.join("; "))).into()
}
