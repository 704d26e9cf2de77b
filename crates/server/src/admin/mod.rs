//! Administration without a dashboard (§7.6): plain async functions over the storage port that
//! create and list organizations, users, schedules, event types and personal access tokens.
//!
//! The CLI (`slotbook admin …`), `slotbook demo`, the testkit and the tests all call these same
//! functions; they return domain objects and never print. Refusals the operator can act on are
//! [`AdminError`]s (wrapped in `anyhow::Error`, so callers may downcast); messages never contain
//! a secret.

mod directory;
mod event_types;
mod schedules;
mod tokens;

pub use directory::{NewUser, create_org, create_user, list_orgs, list_users, set_password};
pub use event_types::{NewEventType, create_event_type, list_event_types};
pub use schedules::{NewSchedule, create_schedule, list_schedules, parse_override, parse_rule};
pub use tokens::{Expiry, NewToken, TokenStatus, create_token, list_tokens, revoke_token};

use auth::Pepper;
use domain::ports::{Clock, IdGen, Storage};
use domain::{OrganizationId, UserId};
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

    /// The organization, or `OrganizationNotFound`.
    pub(crate) async fn organization(
        &self,
        org: OrganizationId,
    ) -> anyhow::Result<domain::organization::Organization> {
        self.store
            .get_organization(org)
            .await?
            .ok_or_else(|| AdminError::OrganizationNotFound(org).into())
    }

    /// The user of `org`, or `UserNotFound`.
    pub(crate) async fn user(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> anyhow::Result<domain::organization::User> {
        self.organization(org).await?;
        self.store
            .get_user(org, user)
            .await?
            .ok_or_else(|| AdminError::UserNotFound { org, user }.into())
    }
}

/// Joins field errors into one operator message.
pub(crate) fn field_errors(what: &str, errors: &domain::validate::FieldErrors) -> anyhow::Error {
    let list: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    AdminError::Invalid(format!("invalid {what}: {}", list.join("; "))).into()
}
