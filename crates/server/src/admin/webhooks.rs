//! Webhook administration for operators: every subscription of an organization (whatever
//! credential created it — the operator sees all, the API only its own sandbox), and pausing
//! or resuming one. Through [`domain::webhook_service::WebhookService`].

use super::AdminContext;
use domain::OrganizationId;
use domain::webhook::{Webhook, WebhookId, WebhookStatus};
use domain::webhook_service::{WebhookError, WebhookService};

/// The `paused_reason` an operator's pause sets unless one is given.
pub const OPERATOR_PAUSE_REASON: &str = "paused by an operator";

fn service(ctx: &AdminContext) -> anyhow::Result<WebhookService> {
    crate::wiring::webhook_service(
        ctx.store.clone(),
        ctx.clock.clone(),
        ctx.ids.clone(),
        &ctx.pepper,
        webhooks::GuardPolicy::default(),
    )
}

fn map(e: WebhookError, org: OrganizationId, id: WebhookId) -> anyhow::Error {
    match e {
        WebhookError::NotFound => {
            anyhow::anyhow!(
                "no webhook {id} in organization {org}; see `slotbook admin webhook list --org {org}`"
            )
        }
        other => anyhow::Error::new(other),
    }
}

/// Every subscription of `org`, oldest first.
pub async fn list_webhooks(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<Webhook>> {
    service(ctx)?
        .list_all(org)
        .await
        .map_err(anyhow::Error::new)
}

/// Pauses (`paused = true`, with `reason` or [`OPERATOR_PAUSE_REASON`]) or resumes a
/// subscription; resuming resets its failure count.
pub async fn set_webhook_paused(
    ctx: &AdminContext,
    org: OrganizationId,
    id: WebhookId,
    paused: bool,
    reason: Option<String>,
) -> anyhow::Result<Webhook> {
    let (status, reason) = if paused {
        (
            WebhookStatus::Paused,
            Some(reason.unwrap_or_else(|| OPERATOR_PAUSE_REASON.to_owned())),
        )
    } else {
        (WebhookStatus::Active, None)
    };
    service(ctx)?
        .set_status(org, id, status, reason)
        .await
        .map_err(|e| map(e, org, id))
}
