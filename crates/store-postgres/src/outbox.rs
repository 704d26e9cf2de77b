//! [`OutboxStore`] on PostgreSQL: the transactional outbox, claimed with
//! `FOR UPDATE SKIP LOCKED` and leased until `now + lease`.
//!
//! Claiming is the one cross-tenant operation here (a delivery worker drains every
//! organization); it never hands a message to two claimers while its lease holds.

use crate::{PgStore, ts, unknown};
use async_trait::async_trait;
use domain::ids::{OrganizationId, OutboxId};
use domain::ports::{OutboxMessage, OutboxStore, StoreError};
use jiff::{SignedDuration, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// Inserts one message on `conn` (inside the caller's transaction, if any).
pub(crate) async fn insert_outbox(
    conn: &mut PgConnection,
    m: &OutboxMessage,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (organization_id, id, event, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(m.organization_id.0)
    .bind(m.id.0)
    .bind(&m.event)
    .bind(&m.payload)
    .bind(ts(m.created_at))
    .execute(conn)
    .await
    .map_err(unknown)?;
    Ok(())
}

fn message_from_row(r: &PgRow) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: OutboxId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        event: r.try_get("event").map_err(unknown)?,
        payload: r.try_get("payload").map_err(unknown)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn enqueue(&self, message: &OutboxMessage) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await.map_err(unknown)?;
        insert_outbox(&mut conn, message).await
    }

    async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = now.checked_add(lease).map_err(unknown)?;
        let rows = sqlx::query(
            "WITH c AS ( \
                SELECT organization_id, id FROM outbox \
                WHERE done_at IS NULL AND (lease_until IS NULL OR lease_until <= $1) \
                ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE outbox o SET lease_until = $2 FROM c \
             WHERE o.organization_id = c.organization_id AND o.id = c.id \
             RETURNING o.organization_id, o.id, o.event, o.payload, o.created_at",
        )
        .bind(ts(now))
        .bind(ts(until))
        .bind(i64::from(max))
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        let mut out = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|m| (m.created_at, m.id.0));
        Ok(out)
    }

    async fn mark_done(
        &self,
        org: OrganizationId,
        id: OutboxId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET done_at = $3 WHERE organization_id = $1 AND id = $2 \
             AND done_at IS NULL",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(())
    }

    async fn pending(&self, org: OrganizationId) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT organization_id, id, event, payload, created_at FROM outbox \
             WHERE organization_id = $1 AND done_at IS NULL ORDER BY created_at, id",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        rows.iter().map(message_from_row).collect()
    }
}
