//! [`WebhookStore`] on PostgreSQL: subscriptions and their per-delivery state.
//!
//! Fan-out inserts the deliveries (`ON CONFLICT DO NOTHING` on the (webhook, event) unique
//! index) and marks the outbox message done in one transaction. Claims lease due deliveries
//! with `FOR UPDATE SKIP LOCKED`, so several server processes never send the same attempt
//! twice. Inserts into `outbox` and `webhook_deliveries` `NOTIFY slotbook_webhooks` (trigger in
//! `0002_webhooks.sql`) so that listening workers wake at once.

use crate::{PgStore, ts, ts_opt, unknown};
use async_trait::async_trait;
use domain::ids::{OrganizationId, OutboxId};
use domain::pagination::{Cursor, CursorValue, Page, PageRequest};
use domain::ports::{OutboxMessage, StoreError};
use domain::webhook::*;
use jiff::{SignedDuration, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

type Result<T> = std::result::Result<T, StoreError>;

macro_rules! webhook_columns {
    () => {
        "organization_id, id, owner, url, events, description, status, paused_reason, \
         consecutive_failures, sealed_secret, last_delivery_at, last_delivery_ok, created_at, \
         updated_at"
    };
}

macro_rules! delivery_columns {
    ($p:literal) => {
        concat!(
            $p,
            "organization_id, ",
            $p,
            "id, ",
            $p,
            "webhook_id, ",
            $p,
            "event_id, ",
            $p,
            "event, ",
            $p,
            "event_created_at, ",
            $p,
            "data, ",
            $p,
            "attempts, ",
            $p,
            "state, ",
            $p,
            "next_attempt_at, ",
            $p,
            "status_code, ",
            $p,
            "error, ",
            $p,
            "delivered_at, ",
            $p,
            "last_attempt_at, ",
            $p,
            "created_at"
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

fn u32col(r: &PgRow, name: &str) -> Result<u32> {
    let v: i32 = r.try_get(name).map_err(unknown)?;
    u32::try_from(v).map_err(|_| corrupt(format!("{name} = {v}")))
}

fn event_names(events: &[WebhookEvent]) -> Vec<String> {
    events.iter().map(|e| e.rest_name().to_owned()).collect()
}

fn webhook_of(r: &PgRow) -> Result<Webhook> {
    let names: Vec<String> = r.try_get("events").map_err(unknown)?;
    let events = names
        .iter()
        .map(|n| WebhookEvent::from_rest(n).ok_or_else(|| corrupt(format!("event {n}"))))
        .collect::<Result<Vec<_>>>()?;
    let status: String = r.try_get("status").map_err(unknown)?;
    Ok(Webhook {
        id: WebhookId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        owner: r.try_get("owner").map_err(unknown)?,
        url: r.try_get("url").map_err(unknown)?,
        events,
        description: r.try_get("description").map_err(unknown)?,
        status: WebhookStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?,
        paused_reason: r.try_get("paused_reason").map_err(unknown)?,
        consecutive_failures: u32col(r, "consecutive_failures")?,
        sealed_secret: r.try_get("sealed_secret").map_err(unknown)?,
        last_delivery_at: opt_tcol(r, "last_delivery_at")?,
        last_delivery_ok: r.try_get("last_delivery_ok").map_err(unknown)?,
        created_at: tcol(r, "created_at")?,
        updated_at: tcol(r, "updated_at")?,
    })
}

fn delivery_of(r: &PgRow) -> Result<Delivery> {
    let state: String = r.try_get("state").map_err(unknown)?;
    let code: Option<i32> = r.try_get("status_code").map_err(unknown)?;
    Ok(Delivery {
        id: DeliveryId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        webhook_id: WebhookId(r.try_get("webhook_id").map_err(unknown)?),
        event_id: OutboxId(r.try_get("event_id").map_err(unknown)?),
        event: r.try_get("event").map_err(unknown)?,
        event_created_at: tcol(r, "event_created_at")?,
        data: r.try_get("data").map_err(unknown)?,
        attempts: u32col(r, "attempts")?,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
        next_attempt_at: opt_tcol(r, "next_attempt_at")?,
        status_code: code
            .map(|c| u16::try_from(c).map_err(|_| corrupt(format!("status_code {c}"))))
            .transpose()?,
        error: r.try_get("error").map_err(unknown)?,
        delivered_at: opt_tcol(r, "delivered_at")?,
        last_attempt_at: opt_tcol(r, "last_attempt_at")?,
        created_at: tcol(r, "created_at")?,
    })
}

async fn insert_delivery_on(conn: &mut PgConnection, d: &Delivery) -> Result<()> {
    sqlx::query(concat!(
        "INSERT INTO webhook_deliveries (",
        delivery_columns!(""),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (organization_id, webhook_id, event_id) DO NOTHING"
    ))
    .bind(d.organization_id.0)
    .bind(d.id.0)
    .bind(d.webhook_id.0)
    .bind(d.event_id.0)
    .bind(&d.event)
    .bind(ts(d.event_created_at))
    .bind(&d.data)
    .bind(i32::try_from(d.attempts).unwrap_or(i32::MAX))
    .bind(d.state.as_str())
    .bind(ts_opt(d.next_attempt_at))
    .bind(d.status_code.map(i32::from))
    .bind(&d.error)
    .bind(ts_opt(d.delivered_at))
    .bind(ts_opt(d.last_attempt_at))
    .bind(ts(d.created_at))
    .execute(conn)
    .await
    .map_err(unknown)?;
    Ok(())
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn create_webhook(&self, w: &Webhook) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO webhooks (",
            webhook_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(w.organization_id.0)
        .bind(w.id.0)
        .bind(&w.owner)
        .bind(&w.url)
        .bind(event_names(&w.events))
        .bind(&w.description)
        .bind(w.status.as_str())
        .bind(&w.paused_reason)
        .bind(i32::try_from(w.consecutive_failures).unwrap_or(i32::MAX))
        .bind(&w.sealed_secret)
        .bind(ts_opt(w.last_delivery_at))
        .bind(w.last_delivery_ok)
        .bind(ts(w.created_at))
        .bind(ts(w.updated_at))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(())
    }

    async fn get_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<Option<Webhook>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(unknown)?;
        row.as_ref().map(webhook_of).transpose()
    }

    async fn list_webhooks(
        &self,
        org: OrganizationId,
        owner: Option<&str>,
    ) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE organization_id = $1 AND ($2::text IS NULL OR owner = $2) \
             ORDER BY created_at, id"
        ))
        .bind(org.0)
        .bind(owner)
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        rows.iter().map(webhook_of).collect()
    }

    async fn update_webhook(&self, w: &Webhook) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE webhooks SET url = $3, events = $4, description = $5, status = $6, \
             paused_reason = $7, consecutive_failures = $8, sealed_secret = $9, \
             last_delivery_at = $10, last_delivery_ok = $11, updated_at = $12 \
             WHERE organization_id = $1 AND id = $2",
        )
        .bind(w.organization_id.0)
        .bind(w.id.0)
        .bind(&w.url)
        .bind(event_names(&w.events))
        .bind(&w.description)
        .bind(w.status.as_str())
        .bind(&w.paused_reason)
        .bind(i32::try_from(w.consecutive_failures).unwrap_or(i32::MAX))
        .bind(&w.sealed_secret)
        .bind(ts_opt(w.last_delivery_at))
        .bind(w.last_delivery_ok)
        .bind(ts(w.updated_at))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<bool> {
        // Deliveries go with it (ON DELETE CASCADE).
        let r = sqlx::query("DELETE FROM webhooks WHERE organization_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(self.pool())
            .await
            .map_err(unknown)?;
        Ok(r.rows_affected() == 1)
    }

    async fn fan_out(
        &self,
        m: &OutboxMessage,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        for d in deliveries {
            insert_delivery_on(&mut tx, d).await?;
        }
        sqlx::query(
            "UPDATE outbox SET done_at = $3 WHERE organization_id = $1 AND id = $2 \
             AND done_at IS NULL",
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

    async fn insert_delivery(&self, d: &Delivery) -> Result<()> {
        let mut conn = self.pool().acquire().await.map_err(unknown)?;
        insert_delivery_on(&mut conn, d).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Delivery>> {
        let until = now.checked_add(lease).map_err(unknown)?;
        let rows = sqlx::query(concat!(
            "WITH c AS ( \
                SELECT d.organization_id, d.id FROM webhook_deliveries d \
                JOIN webhooks w ON w.organization_id = d.organization_id AND w.id = d.webhook_id \
                WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.status = 'active' \
                  AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                ORDER BY d.next_attempt_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED \
             ) \
             UPDATE webhook_deliveries o SET lease_until = $2 FROM c \
             WHERE o.organization_id = c.organization_id AND o.id = c.id RETURNING ",
            delivery_columns!("o.")
        ))
        .bind(ts(now))
        .bind(ts(until))
        .bind(i64::from(max))
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        let mut out = rows.iter().map(delivery_of).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(out)
    }

    async fn record_attempt(
        &self,
        d: &Delivery,
        effect: AttemptEffect,
        pause_after: u32,
        pause_reason: &str,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = $3, state = $4, next_attempt_at = $5, \
             lease_until = NULL, status_code = $6, error = $7, delivered_at = $8, \
             last_attempt_at = $9 WHERE organization_id = $1 AND id = $2",
        )
        .bind(d.organization_id.0)
        .bind(d.id.0)
        .bind(i32::try_from(d.attempts).unwrap_or(i32::MAX))
        .bind(d.state.as_str())
        .bind(ts_opt(d.next_attempt_at))
        .bind(d.status_code.map(i32::from))
        .bind(&d.error)
        .bind(ts_opt(d.delivered_at))
        .bind(ts_opt(d.last_attempt_at))
        .execute(&mut *tx)
        .await
        .map_err(unknown)?;
        let at = ts_opt(d.last_attempt_at);
        let ok = d.state == DeliveryState::Delivered;
        let pause_after = i32::try_from(pause_after).unwrap_or(i32::MAX);
        let q = match effect {
            AttemptEffect::Delivered => sqlx::query(
                "UPDATE webhooks SET consecutive_failures = 0, last_delivery_at = $3, \
                 last_delivery_ok = $4 WHERE organization_id = $1 AND id = $2",
            ),
            AttemptEffect::Retry | AttemptEffect::Test => sqlx::query(
                "UPDATE webhooks SET last_delivery_at = $3, last_delivery_ok = $4 \
                 WHERE organization_id = $1 AND id = $2",
            ),
            AttemptEffect::Exhausted => sqlx::query(
                "UPDATE webhooks SET last_delivery_at = $3, last_delivery_ok = $4, \
                 paused_reason = CASE WHEN status = 'active' AND consecutive_failures + 1 >= $5 \
                     THEN $6 ELSE paused_reason END, \
                 status = CASE WHEN consecutive_failures + 1 >= $5 THEN 'paused' ELSE status END, \
                 consecutive_failures = consecutive_failures + 1 \
                 WHERE organization_id = $1 AND id = $2",
            ),
        };
        let q = q
            .bind(d.organization_id.0)
            .bind(d.webhook_id.0)
            .bind(at)
            .bind(ok);
        let q = if effect == AttemptEffect::Exhausted {
            q.bind(pause_after).bind(pause_reason)
        } else {
            q
        };
        q.execute(&mut *tx).await.map_err(unknown)?;
        tx.commit().await.map_err(unknown)?;
        Ok(())
    }

    async fn get_delivery(&self, org: OrganizationId, id: DeliveryId) -> Result<Option<Delivery>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(""),
            " FROM webhook_deliveries WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(unknown)?;
        row.as_ref().map(delivery_of).transpose()
    }

    async fn list_deliveries(
        &self,
        org: OrganizationId,
        webhook: WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        let mut b = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            delivery_columns!(""),
            " FROM webhook_deliveries WHERE organization_id = "
        ));
        b.push_bind(org.0)
            .push(" AND webhook_id = ")
            .push_bind(webhook.0);
        if let Some(c) = &page.after {
            let CursorValue::Int(ms) = c.value else {
                return Err(corrupt("delivery cursor".into()));
            };
            let at = Timestamp::from_millisecond(ms).map_err(unknown)?;
            b.push(" AND (created_at, id) < (")
                .push_bind(ts(at))
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        b.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit.get()) + 1);
        let rows = b.build().fetch_all(self.pool()).await.map_err(unknown)?;
        let items = rows.iter().map(delivery_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.limit, |d| Cursor {
            sort: DELIVERIES_SORT.into(),
            value: CursorValue::Int(d.created_at.as_millisecond()),
            id: d.id.0,
        }))
    }

    async fn purge_finished(&self, before: Timestamp, max: u32, notified: &[&str]) -> Result<u64> {
        let n1 = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE (organization_id, id) IN ( \
               SELECT organization_id, id FROM webhook_deliveries \
               WHERE state <> 'pending' AND created_at < $1 LIMIT $2)",
        )
        .bind(ts(before))
        .bind(i64::from(max))
        .execute(self.pool())
        .await
        .map_err(unknown)?
        .rows_affected();
        // Messages that send e-mail wait for the notification consumer's cursor as well.
        let n2 = sqlx::query(
            "DELETE FROM outbox WHERE (organization_id, id) IN ( \
               SELECT organization_id, id FROM outbox \
               WHERE done_at IS NOT NULL AND done_at < $1 \
               AND (notified_at IS NOT NULL OR event <> ALL($3::text[])) LIMIT $2)",
        )
        .bind(ts(before))
        .bind(i64::from(max))
        .bind(notified)
        .execute(self.pool())
        .await
        .map_err(unknown)?
        .rows_affected();
        Ok(n1 + n2)
    }

    async fn queue_depth(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending') + \
                    (SELECT COUNT(*) FROM outbox WHERE done_at IS NULL)",
        )
        .fetch_one(self.pool())
        .await
        .map_err(unknown)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl PgStore {
    /// Starts a background task that `LISTEN`s on `slotbook_webhooks` (notified by the
    /// triggers on `outbox` and `webhook_deliveries`) and wakes `notify` for every
    /// notification. The task reconnects after a connection loss; the worker's poll tick
    /// covers the gap.
    pub async fn listen_webhooks(
        &self,
        notify: std::sync::Arc<tokio::sync::Notify>,
    ) -> anyhow::Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect_with(self.pool()).await?;
        listener.listen("slotbook_webhooks").await?;
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => notify.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook LISTEN connection lost; reconnecting");
                        notify.notify_one();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
