//! [`NotificationStore`] on SQLite: the notification consumer's outbox cursor
//! (`notify_lease_until`, `notified_at`) and one row per (event, kind, recipient).
//!
//! Fan-out inserts the rows, skips the canceled booking's pending reminders and marks the
//! message notified in one `BEGIN IMMEDIATE` transaction (`INSERT OR IGNORE` on the
//! `notifications_once` index makes a repeated fan-out a no-op). Claims lease inside one write
//! transaction, so two claimers never receive the same row while its lease holds.
//!
//! All of this bookkeeping commits unsynced (`synchronous=NORMAL`, no fsync wait;
//! `SqliteStore::begin_unsynced_write`): no answer to a client depends on it, and the next
//! `FULL` commit makes it durable. A power cut can at worst redo a fan-out (a no-op, see above)
//! or send an e-mail again whose `sent` mark was lost — at least once, as after a crash
//! mid-send.

use crate::codec::{Result, col, corrupt, ms, opt_ts_col, ts_col, u32_col, uuid_col};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use domain::ids::{BookingUid, OrganizationId, OutboxId};
use domain::notification::*;
use domain::ports::OutboxMessage;
use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str = "organization_id, id, outbox_id, booking_uid, kind, recipient_email, \
     recipient_name, recipient_zone, recipient_role, subject, body_text, body_html, ics_method, \
     ics, state, attempts, next_attempt_at, last_error, sent_at, created_at, updated_at";

fn notification_of(row: &SqliteRow) -> Result<Notification> {
    let kind: String = col(row, "kind")?;
    let role: String = col(row, "recipient_role")?;
    let state: String = col(row, "state")?;
    let method: Option<String> = col(row, "ics_method")?;
    let ics: Option<String> = col(row, "ics")?;
    let calendar = match (method, ics) {
        (Some(m), Some(ics)) => Some(CalendarPart {
            method: CalendarMethod::parse(&m).ok_or_else(|| corrupt(format!("ics_method {m}")))?,
            ics,
        }),
        _ => None,
    };
    Ok(Notification {
        id: NotificationId(uuid_col(row, "id")?),
        organization_id: OrganizationId(uuid_col(row, "organization_id")?),
        outbox_id: OutboxId(uuid_col(row, "outbox_id")?),
        booking_uid: BookingUid(uuid_col(row, "booking_uid")?),
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind}")))?,
        recipient: Recipient {
            email: col(row, "recipient_email")?,
            name: col(row, "recipient_name")?,
            timezone: col(row, "recipient_zone")?,
            role: RecipientRole::parse(&role).ok_or_else(|| corrupt(format!("role {role}")))?,
        },
        content: MessageContent {
            subject: col(row, "subject")?,
            text: col(row, "body_text")?,
            html: col(row, "body_html")?,
            calendar,
        },
        state: NotificationState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
        attempts: u32_col(row, "attempts")?,
        next_attempt_at: opt_ts_col(row, "next_attempt_at")?,
        last_error: col(row, "last_error")?,
        sent_at: opt_ts_col(row, "sent_at")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn message_of(row: &SqliteRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        event: col(row, "event")?,
        payload: col(row, "payload")?,
        created_at: ts_col(row, "created_at")?,
    })
}

fn lease_end(now: Timestamp, lease: SignedDuration) -> Result<Timestamp> {
    now.checked_add(lease)
        .map_err(|e| corrupt(format!("lease end: {e}")))
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn claim_notification_events(
        &self,
        events: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let until = lease_end(now, lease)?;
        let marks = vec!["?"; events.len()].join(", ");
        let mut w = self.begin_unsynced_write().await?;
        let sql = format!(
            "SELECT organization_id, id, event, payload, created_at FROM outbox \
             WHERE notified_at IS NULL AND event IN ({marks}) \
               AND (notify_lease_until IS NULL OR notify_lease_until <= ?) \
             ORDER BY created_at, id LIMIT ?"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in events {
            q = q.bind(*e);
        }
        let rows = q
            .bind(ms(now))
            .bind(i64::from(max))
            .fetch_all(&mut *w.tx)
            .await
            .map_err(db_err("selecting outbox messages to notify"))?;
        let messages = rows.iter().map(message_of).collect::<Result<Vec<_>>>()?;
        for m in &messages {
            sqlx::query(
                "UPDATE outbox SET notify_lease_until = ? WHERE organization_id = ? AND id = ?",
            )
            .bind(ms(until))
            .bind(m.organization_id.as_uuid())
            .bind(m.id.as_uuid())
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("leasing outbox message for notifications"))?;
        }
        w.commit()
            .await
            .map_err(db_err("committing notification claim"))?;
        Ok(messages)
    }

    async fn fan_out_notifications(
        &self,
        m: &OutboxMessage,
        notifications: &[Notification],
        cancel_reminders_of: &[BookingUid],
        now: Timestamp,
    ) -> Result<()> {
        let mut w = self.begin_unsynced_write().await?;
        for uid in cancel_reminders_of {
            sqlx::query(
                "UPDATE notifications SET state = 'skipped', next_attempt_at = NULL, \
                 updated_at = ? WHERE organization_id = ? AND booking_uid = ? \
                 AND kind = 'reminder' AND state = 'pending'",
            )
            .bind(ms(now))
            .bind(m.organization_id.as_uuid())
            .bind(uid.as_uuid())
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("skipping reminders"))?;
        }
        for n in notifications {
            let (method, ics) = match &n.content.calendar {
                Some(c) => (Some(c.method.as_str()), Some(c.ics.as_str())),
                None => (None, None),
            };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT OR IGNORE INTO notifications ({COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )))
            .bind(n.organization_id.as_uuid())
            .bind(n.id.0)
            .bind(n.outbox_id.as_uuid())
            .bind(n.booking_uid.as_uuid())
            .bind(n.kind.as_str())
            .bind(&n.recipient.email)
            .bind(&n.recipient.name)
            .bind(&n.recipient.timezone)
            .bind(n.recipient.role.as_str())
            .bind(&n.content.subject)
            .bind(&n.content.text)
            .bind(&n.content.html)
            .bind(method)
            .bind(ics)
            .bind(n.state.as_str())
            .bind(i64::from(n.attempts))
            .bind(n.next_attempt_at.map(ms))
            .bind(&n.last_error)
            .bind(n.sent_at.map(ms))
            .bind(ms(n.created_at))
            .bind(ms(n.updated_at))
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("inserting notification"))?;
        }
        sqlx::query(
            "UPDATE outbox SET notified_at = ? WHERE organization_id = ? AND id = ? \
             AND notified_at IS NULL",
        )
        .bind(ms(now))
        .bind(m.organization_id.as_uuid())
        .bind(m.id.as_uuid())
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("marking outbox message notified"))?;
        w.commit()
            .await
            .map_err(db_err("committing notification fan-out"))?;
        Ok(())
    }

    async fn claim_notifications(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Notification>> {
        let until = lease_end(now, lease)?;
        let mut w = self.begin_unsynced_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications \
             WHERE state = 'pending' AND next_attempt_at <= ? \
               AND (lease_until IS NULL OR lease_until <= ?) \
             ORDER BY next_attempt_at, id LIMIT ?"
        )))
        .bind(ms(now))
        .bind(ms(now))
        .bind(i64::from(max))
        .fetch_all(&mut *w.tx)
        .await
        .map_err(db_err("selecting due notifications"))?;
        let out = rows
            .iter()
            .map(notification_of)
            .collect::<Result<Vec<_>>>()?;
        for n in &out {
            sqlx::query(
                "UPDATE notifications SET lease_until = ? WHERE organization_id = ? AND id = ?",
            )
            .bind(ms(until))
            .bind(n.organization_id.as_uuid())
            .bind(n.id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("leasing notification"))?;
        }
        w.commit()
            .await
            .map_err(db_err("committing notification claim"))?;
        Ok(out)
    }

    async fn record_notification(&self, n: &Notification) -> Result<()> {
        self.write_one_unsynced(
            sqlx::query(
                "UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?, \
                 lease_until = NULL, last_error = ?, sent_at = ?, updated_at = ? \
                 WHERE organization_id = ? AND id = ?",
            )
            .bind(n.state.as_str())
            .bind(i64::from(n.attempts))
            .bind(n.next_attempt_at.map(ms))
            .bind(&n.last_error)
            .bind(n.sent_at.map(ms))
            .bind(ms(n.updated_at))
            .bind(n.organization_id.as_uuid())
            .bind(n.id.0),
        )
        .await
        .map_err(db_err("recording notification"))?;
        Ok(())
    }

    async fn list_notifications(
        &self,
        org: OrganizationId,
        state: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications \
             WHERE organization_id = ? AND (? IS NULL OR state = ?) \
             ORDER BY created_at DESC, id DESC LIMIT ?"
        )))
        .bind(org.as_uuid())
        .bind(state.map(|s| s.as_str()))
        .bind(state.map(|s| s.as_str()))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing notifications"))?;
        rows.iter().map(notification_of).collect()
    }
}
