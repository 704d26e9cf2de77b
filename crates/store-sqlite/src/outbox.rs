//! [`OutboxStore`]: the transactional outbox.
//!
//! Messages are written in the transaction of the change they describe ([`insert_message`] is
//! shared with the booking and event-type writes). `claim` leases free or expired messages
//! (`lease_until <= now`) in one `BEGIN IMMEDIATE` transaction, so two claimers never receive
//! the same message while its lease holds.

use crate::codec::{Result, col, ms, ts_col, uuid_col};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use domain::ids::{OrganizationId, OutboxId};
use domain::ports::{OutboxMessage, OutboxStore};
use jiff::{SignedDuration, Timestamp};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

fn message_of(row: &SqliteRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        event: col(row, "event")?,
        payload: col(row, "payload")?,
        created_at: ts_col(row, "created_at")?,
    })
}

/// Inserts one message on `conn` (normally inside a write transaction).
pub(crate) async fn insert_message(conn: &mut SqliteConnection, m: &OutboxMessage) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (organization_id, id, event, payload, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(m.organization_id.as_uuid())
    .bind(m.id.as_uuid())
    .bind(&m.event)
    .bind(&m.payload)
    .bind(ms(m.created_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err("enqueueing outbox message"))?;
    Ok(())
}

/// Marks a message done on `conn` (the fan-out's transaction).
pub(crate) async fn mark_done_on(
    conn: &mut SqliteConnection,
    org: OrganizationId,
    id: OutboxId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = ? WHERE organization_id = ? AND id = ? AND done_at IS NULL",
    )
    .bind(ms(now))
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .execute(&mut *conn)
    .await
    .map_err(db_err("marking outbox message done"))?;
    Ok(())
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue(&self, m: &OutboxMessage) -> Result<()> {
        let mut w = self.begin_write().await?;
        insert_message(&mut w.tx, m).await?;
        w.commit()
            .await
            .map_err(db_err("committing outbox message"))?;
        Ok(())
    }

    async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let until = now
            .checked_add(lease)
            .map_err(|e| domain::ports::StoreError::Unknown(anyhow::anyhow!("lease end: {e}")))?;
        let mut w = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT organization_id, id, event, payload, created_at FROM outbox \
             WHERE done_at IS NULL AND (lease_until IS NULL OR lease_until <= ?) \
             ORDER BY created_at, id LIMIT ?",
        )
        .bind(ms(now))
        .bind(i64::from(max))
        .fetch_all(&mut *w.tx)
        .await
        .map_err(db_err("selecting outbox messages"))?;
        let messages = rows.iter().map(message_of).collect::<Result<Vec<_>>>()?;
        for m in &messages {
            sqlx::query("UPDATE outbox SET lease_until = ? WHERE organization_id = ? AND id = ?")
                .bind(ms(until))
                .bind(m.organization_id.as_uuid())
                .bind(m.id.as_uuid())
                .execute(&mut *w.tx)
                .await
                .map_err(db_err("leasing outbox message"))?;
        }
        w.commit_waking(messages.len())
            .await
            .map_err(db_err("committing outbox claim"))?;
        Ok(messages)
    }

    async fn mark_done(&self, org: OrganizationId, id: OutboxId, now: Timestamp) -> Result<()> {
        self.write_one(
            sqlx::query(
                "UPDATE outbox SET done_at = ? WHERE organization_id = ? AND id = ? \
                 AND done_at IS NULL",
            )
            .bind(ms(now))
            .bind(org.as_uuid())
            .bind(id.as_uuid()),
        )
        .await
        .map_err(db_err("marking outbox message done"))?;
        Ok(())
    }

    async fn pending(&self, org: OrganizationId) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT organization_id, id, event, payload, created_at FROM outbox \
             WHERE organization_id = ? AND done_at IS NULL ORDER BY created_at, id",
        )
        .bind(org.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing pending outbox messages"))?;
        rows.iter().map(message_of).collect()
    }
}
