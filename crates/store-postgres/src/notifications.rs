//! [`NotificationStore`] on PostgreSQL: the notification consumer's outbox cursor
//! (`notify_lease_until`, `notified_at`) and one row per (event, kind, recipient).
//!
//! Fan-out inserts the rows (`ON CONFLICT DO NOTHING` on `notifications_once`), skips the
//! pending reminders of canceled or moved bookings and marks the message notified in one
//! transaction. Claims use `FOR UPDATE SKIP LOCKED`, so several processes never send one
//! message twice while its lease holds.

use crate::{PgStore, ts, ts_opt, unknown};
use async_trait::async_trait;
use domain::ids::{BookingUid, OrganizationId, OutboxId};
use domain::notification::*;
use domain::ports::{OutboxMessage, StoreError};
use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::postgres::PgRow;

type Result<T> = std::result::Result<T, StoreError>;

macro_rules! columns {
    ($p:literal) => {
        concat!(
            $p,
            "organization_id, ",
            $p,
            "id, ",
            $p,
            "outbox_id, ",
            $p,
            "booking_uid, ",
            $p,
            "kind, ",
            $p,
            "recipient_email, ",
            $p,
            "recipient_name, ",
            $p,
            "recipient_zone, ",
            $p,
            "recipient_role, ",
            $p,
            "subject, ",
            $p,
            "body_text, ",
            $p,
            "body_html, ",
            $p,
            "ics_method, ",
            $p,
            "ics, ",
            $p,
            "state, ",
            $p,
            "attempts, ",
            $p,
            "next_attempt_at, ",
            $p,
            "last_error, ",
            $p,
            "sent_at, ",
            $p,
            "created_at, ",
            $p,
            "updated_at"
        )
    };
}

fn corrupt(what: String) -> StoreError {
    StoreError::Unknown(anyhow::anyhow!("stored data is not valid: {what}"))
}

fn tcol(r: &PgRow, name: &str) -> Result<Timestamp> {
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(name)
        .map_err(unknown)?
        .to_jiff())
}

fn opt_tcol(r: &PgRow, name: &str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(name)
        .map_err(unknown)?
        .map(|t| t.to_jiff()))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    r: &'r PgRow,
    name: &str,
) -> Result<T> {
    r.try_get(name).map_err(unknown)
}

fn notification_of(r: &PgRow) -> Result<Notification> {
    let kind: String = get(r, "kind")?;
    let role: String = get(r, "recipient_role")?;
    let state: String = get(r, "state")?;
    let method: Option<String> = get(r, "ics_method")?;
    let ics: Option<String> = get(r, "ics")?;
    let attempts: i32 = get(r, "attempts")?;
    let calendar = match (method, ics) {
        (Some(m), Some(ics)) => Some(CalendarPart {
            method: CalendarMethod::parse(&m).ok_or_else(|| corrupt(format!("ics_method {m}")))?,
            ics,
        }),
        _ => None,
    };
    Ok(Notification {
        id: NotificationId(get(r, "id")?),
        organization_id: OrganizationId(get(r, "organization_id")?),
        outbox_id: OutboxId(get(r, "outbox_id")?),
        booking_uid: BookingUid(get(r, "booking_uid")?),
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind}")))?,
        recipient: Recipient {
            email: get(r, "recipient_email")?,
            name: get(r, "recipient_name")?,
            timezone: get(r, "recipient_zone")?,
            role: RecipientRole::parse(&role).ok_or_else(|| corrupt(format!("role {role}")))?,
        },
        content: MessageContent {
            subject: get(r, "subject")?,
            text: get(r, "body_text")?,
            html: get(r, "body_html")?,
            calendar,
        },
        state: NotificationState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt(format!("attempts {attempts}")))?,
        next_attempt_at: opt_tcol(r, "next_attempt_at")?,
        last_error: get(r, "last_error")?,
        sent_at: opt_tcol(r, "sent_at")?,
        created_at: tcol(r, "created_at")?,
        updated_at: tcol(r, "updated_at")?,
    })
}

#[async_trait]
impl NotificationStore for PgStore {
    async fn claim_notification_events(
        &self,
        events: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let until = now.checked_add(lease).map_err(unknown)?;
        let names: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
        let rows = sqlx::query(
            "WITH c AS ( \
                SELECT organization_id, id FROM outbox \
                WHERE notified_at IS NULL AND event = ANY($3) \
                  AND (notify_lease_until IS NULL OR notify_lease_until <= $1) \
                ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE outbox o SET notify_lease_until = $2 FROM c \
             WHERE o.organization_id = c.organization_id AND o.id = c.id \
             RETURNING o.organization_id, o.id, o.event, o.payload, o.created_at",
        )
        .bind(ts(now))
        .bind(ts(until))
        .bind(&names)
        .bind(i64::from(max))
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(OutboxMessage {
                    id: OutboxId(get(r, "id")?),
                    organization_id: OrganizationId(get(r, "organization_id")?),
                    event: get(r, "event")?,
                    payload: get(r, "payload")?,
                    created_at: tcol(r, "created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|m| (m.created_at, m.id));
        Ok(out)
    }

    async fn fan_out_notifications(
        &self,
        m: &OutboxMessage,
        notifications: &[Notification],
        cancel_reminders_of: &[BookingUid],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        let uids: Vec<uuid::Uuid> = cancel_reminders_of.iter().map(|u| u.0).collect();
        if !uids.is_empty() {
            sqlx::query(
                "UPDATE notifications SET state = 'skipped', next_attempt_at = NULL, \
                 updated_at = $3 WHERE organization_id = $1 AND booking_uid = ANY($2) \
                 AND kind = 'reminder' AND state = 'pending'",
            )
            .bind(m.organization_id.0)
            .bind(&uids)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(unknown)?;
        }
        for n in notifications {
            let (method, ics) = match &n.content.calendar {
                Some(c) => (Some(c.method.as_str()), Some(c.ics.as_str())),
                None => (None, None),
            };
            sqlx::query(concat!(
                "INSERT INTO notifications (",
                columns!(""),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 $16, $17, $18, $19, $20, $21) ON CONFLICT DO NOTHING"
            ))
            .bind(n.organization_id.0)
            .bind(n.id.0)
            .bind(n.outbox_id.0)
            .bind(n.booking_uid.0)
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
            .bind(i32::try_from(n.attempts).unwrap_or(i32::MAX))
            .bind(ts_opt(n.next_attempt_at))
            .bind(&n.last_error)
            .bind(ts_opt(n.sent_at))
            .bind(ts(n.created_at))
            .bind(ts(n.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(unknown)?;
        }
        sqlx::query(
            "UPDATE outbox SET notified_at = $3 WHERE organization_id = $1 AND id = $2 \
             AND notified_at IS NULL",
        )
        .bind(m.organization_id.0)
        .bind(m.id.0)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(unknown)?;
        tx.commit().await.map_err(unknown)?;
        Ok(())
    }

    async fn claim_notifications(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Notification>> {
        let until = now.checked_add(lease).map_err(unknown)?;
        let rows = sqlx::query(concat!(
            "WITH c AS ( \
                SELECT organization_id, id FROM notifications \
                WHERE state = 'pending' AND next_attempt_at <= $1 \
                  AND (lease_until IS NULL OR lease_until <= $1) \
                ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE notifications o SET lease_until = $2 FROM c \
             WHERE o.organization_id = c.organization_id AND o.id = c.id RETURNING ",
            columns!("o.")
        ))
        .bind(ts(now))
        .bind(ts(until))
        .bind(i64::from(max))
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        let mut out = rows
            .iter()
            .map(notification_of)
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|n| (n.next_attempt_at, n.id));
        Ok(out)
    }

    async fn record_notification(&self, n: &Notification) -> Result<()> {
        sqlx::query(
            "UPDATE notifications SET state = $3, attempts = $4, next_attempt_at = $5, \
             lease_until = NULL, last_error = $6, sent_at = $7, updated_at = $8 \
             WHERE organization_id = $1 AND id = $2",
        )
        .bind(n.organization_id.0)
        .bind(n.id.0)
        .bind(n.state.as_str())
        .bind(i32::try_from(n.attempts).unwrap_or(i32::MAX))
        .bind(ts_opt(n.next_attempt_at))
        .bind(&n.last_error)
        .bind(ts_opt(n.sent_at))
        .bind(ts(n.updated_at))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(())
    }

    async fn list_notifications(
        &self,
        org: OrganizationId,
        state: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(""),
            " FROM notifications WHERE organization_id = $1 \
              AND ($2::text IS NULL OR state = $2) \
              ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(org.0)
        .bind(state.map(|s| s.as_str()))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        rows.iter().map(notification_of).collect()
    }
}
