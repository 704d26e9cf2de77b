//! `slotbook admin webhook list|pause|resume --org …`: parsing and printing for
//! [`crate::admin::list_webhooks`] and [`crate::admin::set_webhook_paused`]. Never prints a
//! signing secret.

use crate::admin::{self, AdminContext};
use api_types::time::{opt_ts, ts};
use clap::Subcommand;
use domain::OrganizationId;
use domain::webhook::{Webhook, WebhookId};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// List every subscription of an organization.
    List {
        #[arg(long)]
        org: OrganizationId,
    },
    /// Stop delivering to a subscription.
    Pause {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        id: uuid::Uuid,
        /// Shown as `paused_reason` (default: "paused by an operator").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deliver again (resets the failure count).
    Resume {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        id: uuid::Uuid,
    },
}

fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.id.0,
        "owner": w.owner,
        "url": w.url,
        "events": w.events.iter().map(|e| e.rest_name()).collect::<Vec<_>>(),
        "status": w.status.as_str(),
        "description": w.description,
        "paused_reason": w.paused_reason,
        "consecutive_failures": w.consecutive_failures,
        "last_delivery_at": opt_ts(w.last_delivery_at),
        "last_delivery_ok": w.last_delivery_ok,
        "created_at": ts(w.created_at),
        "updated_at": ts(w.updated_at),
    })
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn run(ctx: &AdminContext, command: WebhookCommand, json: bool) -> anyhow::Result<()> {
    match command {
        WebhookCommand::List { org } => {
            let list = admin::list_webhooks(ctx, org).await?;
            if json {
                return print_json(&Value::Array(list.iter().map(webhook_json).collect()));
            }
            println!("ID\tSTATUS\tOWNER\tEVENTS\tURL\tPAUSED_REASON");
            for w in list {
                let events: Vec<&str> = w.events.iter().map(|e| e.rest_name()).collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    w.id,
                    w.status.as_str(),
                    w.owner,
                    events.join(","),
                    w.url,
                    w.paused_reason.as_deref().unwrap_or("-")
                );
            }
        }
        WebhookCommand::Pause { org, id, reason } => {
            let w = admin::set_webhook_paused(ctx, org, WebhookId(id), true, reason).await?;
            if json {
                return print_json(&webhook_json(&w));
            }
            println!("paused webhook {} ({})", w.id, w.url);
        }
        WebhookCommand::Resume { org, id } => {
            let w = admin::set_webhook_paused(ctx, org, WebhookId(id), false, None).await?;
            if json {
                return print_json(&webhook_json(&w));
            }
            println!("resumed webhook {} ({})", w.id, w.url);
        }
    }
    Ok(())
}
