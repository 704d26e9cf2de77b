//! [`WebhookStore`] on SQLite: subscriptions and their per-delivery state.
//!
//! Fan-out inserts the deliveries and marks the outbox message done in one `BEGIN IMMEDIATE`
//! transaction (`INSERT OR IGNORE` on the (webhook, event) unique index makes a repeated
//! fan-out a no-op). Claims lease due deliveries inside one write transaction, so two claimers
//! never receive the same delivery while its lease holds.

use crate::codec::{Result, col, corrupt, ms, opt_ts_col, ts_col, u32_col, uuid_col};
use crate::outbox::mark_done_on;
use crate::{SqliteStore, db_err, push_keyset};
use async_trait::async_trait;
use domain::ids::{OrganizationId, OutboxId};
use domain::pagination::{Cursor, CursorValue, Page, PageRequest};
use domain::ports::OutboxMessage;
use domain::webhook::*;
use jiff::{SignedDuration, Timestamp};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

const WEBHOOK_COLUMNS: &str = "organization_id, id, owner, url, events, description, status, \
     paused_reason, consecutive_failures, sealed_secret, last_delivery_at, last_delivery_ok, \
     created_at, updated_at";

const DELIVERY_COLUMNS: &str = "organization_id, id, webhook_id, event_id, event, \
     event_created_at, data, attempts, state, next_attempt_at, status_code, error, delivered_at, \
     last_attempt_at, created_at";

fn events_text(events: &[WebhookEvent]) -> String {
    events
        .iter()
        .map(|e| e.rest_name())
        .collect::<Vec<_>>()
        .join(" ")
}

fn webhook_of(row: &SqliteRow) -> Result<Webhook> {
    let events: String = col(row, "events")?;
    let events = events
        .split_whitespace()
        .map(|n| WebhookEvent::from_rest(n).ok_or_else(|| corrupt(format!("event {n}"))))
        .collect::<Result<Vec<_>>>()?;
    let status: String = col(row, "status")?;
    let ok: Option<i64> = col(row, "last_delivery_ok")?;
    Ok(Webhook {
        id: WebhookId(uuid_col(row, "id")?),
        organization_id: OrganizationId(uuid_col(row, "organization_id")?),
        owner: col(row, "owner")?,
        url: col(row, "url")?,
        events,
        description: col(row, "description")?,
        status: WebhookStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?,
        paused_reason: col(row, "paused_reason")?,
        consecutive_failures: u32_col(row, "consecutive_failures")?,
        sealed_secret: col(row, "sealed_secret")?,
        last_delivery_at: opt_ts_col(row, "last_delivery_at")?,
        last_delivery_ok: ok.map(|v| v != 0),
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn delivery_of(row: &SqliteRow) -> Result<Delivery> {
    let state: String = col(row, "state")?;
    let code: Option<i64> = col(row, "status_code")?;
    Ok(Delivery {
        id: DeliveryId(uuid_col(row, "id")?),
        organization_id: OrganizationId(uuid_col(row, "organization_id")?),
        webhook_id: WebhookId(uuid_col(row, "webhook_id")?),
        event_id: OutboxId(uuid_col(row, "event_id")?),
        event: col(row, "event")?,
        event_created_at: ts_col(row, "event_created_at")?,
        data: col(row, "data")?,
        attempts: u32_col(row, "attempts")?,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
        next_attempt_at: opt_ts_col(row, "next_attempt_at")?,
        status_code: code
            .map(|c| u16::try_from(c).map_err(|_| corrupt(format!("status_code {c}"))))
            .transpose()?,
        error: col(row, "error")?,
        delivered_at: opt_ts_col(row, "delivered_at")?,
        last_attempt_at: opt_ts_col(row, "last_attempt_at")?,
        created_at: ts_col(row, "created_at")?,
    })
}

async fn insert_delivery_on(conn: &mut SqliteConnection, d: &Delivery) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT OR IGNORE INTO webhook_deliveries ({DELIVERY_COLUMNS}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(d.organization_id.0)
    .bind(d.id.0)
    .bind(d.webhook_id.0)
    .bind(d.event_id.0)
    .bind(&d.event)
    .bind(ms(d.event_created_at))
    .bind(&d.data)
    .bind(i64::from(d.attempts))
    .bind(d.state.as_str())
    .bind(d.next_attempt_at.map(ms))
    .bind(d.status_code.map(i64::from))
    .bind(&d.error)
    .bind(d.delivered_at.map(ms))
    .bind(d.last_attempt_at.map(ms))
    .bind(ms(d.created_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err("inserting webhook delivery"))?;
    Ok(())
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, w: &Webhook) -> Result<()> {
        self.write_one(
            sqlx::query(
                "INSERT INTO webhooks (organization_id, id, owner, url, events, description, \
                 status, paused_reason, consecutive_failures, sealed_secret, last_delivery_at, \
                 last_delivery_ok, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(w.organization_id.0)
            .bind(w.id.0)
            .bind(&w.owner)
            .bind(&w.url)
            .bind(events_text(&w.events))
            .bind(&w.description)
            .bind(w.status.as_str())
            .bind(&w.paused_reason)
            .bind(i64::from(w.consecutive_failures))
            .bind(&w.sealed_secret)
            .bind(w.last_delivery_at.map(ms))
            .bind(w.last_delivery_ok.map(i64::from))
            .bind(ms(w.created_at))
            .bind(ms(w.updated_at)),
        )
        .await
        .map_err(db_err("inserting webhook"))?;
        Ok(())
    }

    async fn get_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<Option<Webhook>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = ? AND id = ?"
        )))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err("reading webhook"))?;
        row.as_ref().map(webhook_of).transpose()
    }

    async fn list_webhooks(
        &self,
        org: OrganizationId,
        owner: Option<&str>,
    ) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = ? \
             AND (? IS NULL OR owner = ?) ORDER BY created_at, id"
        )))
        .bind(org.0)
        .bind(owner)
        .bind(owner)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing webhooks"))?;
        rows.iter().map(webhook_of).collect()
    }

    async fn update_webhook(&self, w: &Webhook) -> Result<bool> {
        let r = self
            .write_one(
                sqlx::query(
                    "UPDATE webhooks SET url = ?, events = ?, description = ?, status = ?, \
                     paused_reason = ?, consecutive_failures = ?, sealed_secret = ?, \
                     last_delivery_at = ?, last_delivery_ok = ?, updated_at = ? \
                     WHERE organization_id = ? AND id = ?",
                )
                .bind(&w.url)
                .bind(events_text(&w.events))
                .bind(&w.description)
                .bind(w.status.as_str())
                .bind(&w.paused_reason)
                .bind(i64::from(w.consecutive_failures))
                .bind(&w.sealed_secret)
                .bind(w.last_delivery_at.map(ms))
                .bind(w.last_delivery_ok.map(i64::from))
                .bind(ms(w.updated_at))
                .bind(w.organization_id.0)
                .bind(w.id.0),
            )
            .await
            .map_err(db_err("updating webhook"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<bool> {
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE organization_id = ? AND webhook_id = ?")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("deleting webhook deliveries"))?;
        let r = sqlx::query("DELETE FROM webhooks WHERE organization_id = ? AND id = ?")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("deleting webhook"))?;
        w.commit()
            .await
            .map_err(db_err("committing webhook delete"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn fan_out(
        &self,
        m: &OutboxMessage,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        for d in deliveries {
            insert_delivery_on(&mut w.tx, d).await?;
        }
        mark_done_on(&mut w.tx, m.organization_id, m.id, now).await?;
        w.commit_waking(deliveries.len())
            .await
            .map_err(db_err("committing fan-out"))?;
        Ok(())
    }

    async fn insert_delivery(&self, d: &Delivery) -> Result<()> {
        let mut w = self.begin_write().await?;
        insert_delivery_on(&mut w.tx, d).await?;
        w.commit().await.map_err(db_err("committing delivery"))?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Delivery>> {
        let until = now
            .checked_add(lease)
            .map_err(|e| corrupt(format!("lease end: {e}")))?;
        let mut w = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM webhook_deliveries d \
             JOIN webhooks w ON w.organization_id = d.organization_id AND w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND w.status = 'active' \
               AND (d.lease_until IS NULL OR d.lease_until <= ?) \
             ORDER BY d.next_attempt_at, d.id LIMIT ?",
            DELIVERY_COLUMNS
                .split(", ")
                .map(|c| format!("d.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .bind(ms(now))
        .bind(ms(now))
        .bind(i64::from(max))
        .fetch_all(&mut *w.tx)
        .await
        .map_err(db_err("selecting due deliveries"))?;
        let out = rows.iter().map(delivery_of).collect::<Result<Vec<_>>>()?;
        for d in &out {
            sqlx::query("UPDATE webhook_deliveries SET lease_until = ? WHERE organization_id = ? AND id = ?")
                .bind(ms(until))
                .bind(d.organization_id.0)
                .bind(d.id.0)
                .execute(&mut *w.tx)
                .await
                .map_err(db_err("leasing delivery"))?;
        }
        w.commit_waking(out.len())
            .await
            .map_err(db_err("committing delivery claim"))?;
        Ok(out)
    }

    async fn record_attempt(
        &self,
        d: &Delivery,
        effect: AttemptEffect,
        pause_after: u32,
        pause_reason: &str,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = ?, state = ?, next_attempt_at = ?, \
             lease_until = NULL, status_code = ?, error = ?, delivered_at = ?, last_attempt_at = ? \
             WHERE organization_id = ? AND id = ?",
        )
        .bind(i64::from(d.attempts))
        .bind(d.state.as_str())
        .bind(d.next_attempt_at.map(ms))
        .bind(d.status_code.map(i64::from))
        .bind(&d.error)
        .bind(d.delivered_at.map(ms))
        .bind(d.last_attempt_at.map(ms))
        .bind(d.organization_id.0)
        .bind(d.id.0)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("recording delivery attempt"))?;
        let at = d.last_attempt_at.map(ms);
        let ok = i64::from(d.state == DeliveryState::Delivered);
        let q = match effect {
            AttemptEffect::Delivered => sqlx::query(
                "UPDATE webhooks SET consecutive_failures = 0, last_delivery_at = ?, \
                 last_delivery_ok = ? WHERE organization_id = ? AND id = ?",
            )
            .bind(at)
            .bind(ok),
            AttemptEffect::Retry | AttemptEffect::Test => sqlx::query(
                "UPDATE webhooks SET last_delivery_at = ?, last_delivery_ok = ? \
                 WHERE organization_id = ? AND id = ?",
            )
            .bind(at)
            .bind(ok),
            AttemptEffect::Exhausted => sqlx::query(
                "UPDATE webhooks SET last_delivery_at = ?, last_delivery_ok = ?, \
                 paused_reason = CASE WHEN status = 'active' AND consecutive_failures + 1 >= ? \
                     THEN ? ELSE paused_reason END, \
                 status = CASE WHEN consecutive_failures + 1 >= ? THEN 'paused' ELSE status END, \
                 consecutive_failures = consecutive_failures + 1 \
                 WHERE organization_id = ? AND id = ?",
            )
            .bind(at)
            .bind(ok)
            .bind(i64::from(pause_after))
            .bind(pause_reason)
            .bind(i64::from(pause_after)),
        };
        q.bind(d.organization_id.0)
            .bind(d.webhook_id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("recording webhook outcome"))?;
        w.commit()
            .await
            .map_err(db_err("committing delivery attempt"))?;
        Ok(())
    }

    async fn get_delivery(&self, org: OrganizationId, id: DeliveryId) -> Result<Option<Delivery>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = ? AND id = ?"
        )))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err("reading delivery"))?;
        row.as_ref().map(delivery_of).transpose()
    }

    async fn list_deliveries(
        &self,
        org: OrganizationId,
        webhook: WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        let mut qb = sqlx::QueryBuilder::new(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = "
        ));
        qb.push_bind(org.0)
            .push(" AND webhook_id = ")
            .push_bind(webhook.0);
        push_keyset(&mut qb, "created_at", "id", true, page);
        let rows = qb
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing deliveries"))?;
        let items = rows.iter().map(delivery_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.limit, |d| Cursor {
            sort: DELIVERIES_SORT.into(),
            value: CursorValue::Int(ms(d.created_at)),
            id: d.id.0,
        }))
    }

    async fn purge_finished(&self, before: Timestamp, max: u32, notified: &[&str]) -> Result<u64> {
        let mut w = self.begin_write().await?;
        let n1 = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE (organization_id, id) IN ( \
               SELECT organization_id, id FROM webhook_deliveries \
               WHERE state <> 'pending' AND created_at < ? LIMIT ?)",
        )
        .bind(ms(before))
        .bind(i64::from(max))
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("purging deliveries"))?
        .rows_affected();
        // Messages that send e-mail wait for the notification consumer's cursor as well.
        let marks = vec!["?"; notified.len()].join(", ");
        let sql = format!(
            "DELETE FROM outbox WHERE (organization_id, id) IN ( \
               SELECT organization_id, id FROM outbox WHERE done_at IS NOT NULL AND done_at < ? \
               AND (notified_at IS NOT NULL OR event NOT IN ({marks})) LIMIT ?)"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ms(before));
        for e in notified {
            q = q.bind(*e);
        }
        let n2 = q
            .bind(i64::from(max))
            .execute(&mut *w.tx)
            .await
            .map_err(db_err("purging outbox"))?
            .rows_affected();
        w.commit().await.map_err(db_err("committing purge"))?;
        Ok(n1 + n2)
    }

    async fn queue_depth(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending') + \
                    (SELECT COUNT(*) FROM outbox WHERE done_at IS NULL)",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db_err("counting the webhook queue"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
