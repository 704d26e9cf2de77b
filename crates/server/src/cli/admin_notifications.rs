//! `slotbook admin notification list --org … [--status failed] [--limit N]`: the operators'
//! view of booking e-mails, newest first (failed ones carry the relay's answer).

use crate::admin::AdminContext;
use api_types::time::{opt_ts, ts};
use clap::Subcommand;
use domain::OrganizationId;
use domain::notification::{Notification, NotificationState};
use domain::notification_service::NotificationLog;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum NotificationCommand {
    /// List an organization's notifications, newest first.
    List {
        #[arg(long)]
        org: OrganizationId,
        /// Only this state: pending, sent, failed or skipped.
        #[arg(long, value_parser = parse_state)]
        status: Option<NotificationState>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn parse_state(s: &str) -> Result<NotificationState, String> {
    NotificationState::parse(s)
        .ok_or_else(|| format!("'{s}': use pending, sent, failed or skipped"))
}

fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id.0,
        "booking_uid": n.booking_uid.0,
        "event_id": n.outbox_id.0,
        "kind": n.kind.as_str(),
        "recipient": n.recipient.email,
        "role": n.recipient.role.as_str(),
        "subject": n.content.subject,
        "invite": n.content.calendar.as_ref().map(|c| c.method.as_str()),
        "status": n.state.as_str(),
        "attempts": n.attempts,
        "next_attempt_at": opt_ts(n.next_attempt_at),
        "last_error": n.last_error,
        "sent_at": opt_ts(n.sent_at),
        "created_at": ts(n.created_at),
    })
}

pub async fn run(
    ctx: &AdminContext,
    command: NotificationCommand,
    json: bool,
) -> anyhow::Result<()> {
    match command {
        NotificationCommand::List { org, status, limit } => {
            let log = NotificationLog {
                store: ctx.store.clone(),
            };
            let list = log.list(org, status, limit.clamp(1, 1000)).await?;
            if json {
                let v = Value::Array(list.iter().map(notification_json).collect());
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            println!("ID\tSTATUS\tKIND\tRECIPIENT\tATTEMPTS\tCREATED\tLAST_ERROR");
            for n in list {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    n.id,
                    n.state.as_str(),
                    n.kind.as_str(),
                    n.recipient.email,
                    n.attempts,
                    ts(n.created_at),
                    n.last_error.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}
