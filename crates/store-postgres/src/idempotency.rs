//! [`IdempotencyStore`] on PostgreSQL: one row per (organization, credential owner, key),
//! reserved atomically with `INSERT … ON CONFLICT … DO UPDATE … WHERE <expired or abandoned>`.
//!
//! Expiry and abandonment are judged by the caller's `now` and `lease`, never by the database
//! clock. Each reservation stores its random `nonce`; completion and release match on it.

use crate::{PgStore, ts, unknown};
use anyhow::anyhow;
use async_trait::async_trait;
use domain::ports::{
    IDEMPOTENCY_TTL, IdempotencyKey, IdempotencyStore, ReplayRecord, Reservation, ReservationNonce,
    ReservedKey, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use sqlx::PgConnection;

/// Stores the replay record of a reserved key on `conn` (inside the caller's transaction, if
/// any), in `response_body`: a row whose `response_body` is NULL is in progress
/// (`response_status` and `response_headers` stay unused). Only while `reserved` still holds
/// its key (same nonce, unfinished); otherwise `reservation_lost` and nothing is written (the
/// caller's transaction must then not commit).
pub(crate) async fn complete_on(
    conn: &mut PgConnection,
    reserved: &ReservedKey,
    record: &ReplayRecord,
) -> Result<(), StoreError> {
    let key = &reserved.key;
    let done = sqlx::query(
        "UPDATE idempotency_keys SET response_body = $4 \
         WHERE organization_id = $1 AND owner = $2 AND key = $3 AND nonce = $5 \
         AND response_body IS NULL",
    )
    .bind(key.organization_id.0)
    .bind(&key.owner)
    .bind(&key.key)
    .bind(&record.0)
    .bind(reserved.nonce.0)
    .execute(conn)
    .await
    .map_err(unknown)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::reservation_lost());
    }
    Ok(())
}

type ExistingRow = (String, Option<String>);

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError> {
        // SKIP LOCKED: a key being reserved right now (or another process purging) is left
        // for a later round.
        let n = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (organization_id, owner, key) IN ( \
               SELECT organization_id, owner, key FROM idempotency_keys \
               WHERE reserved_at < $1 ORDER BY reserved_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(ts(before))
        .bind(i64::from(max))
        .execute(self.pool())
        .await
        .map_err(unknown)?
        .rows_affected();
        Ok(n)
    }

    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Reservation, StoreError> {
        let expired_before = now.checked_sub(IDEMPOTENCY_TTL).map_err(unknown)?;
        let abandoned_before = now.checked_sub(lease).map_err(unknown)?;
        // A concurrent release may delete the row between the two statements: try again.
        for _ in 0..5 {
            let nonce = ReservationNonce(uuid::Uuid::new_v4());
            let reserved: Option<i32> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys (organization_id, owner, key, fingerprint, reserved_at, \
                    nonce) \
                 VALUES ($1, $2, $3, $4, $5, $8) \
                 ON CONFLICT (organization_id, owner, key) DO UPDATE SET \
                    fingerprint = EXCLUDED.fingerprint, reserved_at = EXCLUDED.reserved_at, \
                    nonce = EXCLUDED.nonce, \
                    response_status = NULL, response_headers = NULL, response_body = NULL \
                 WHERE idempotency_keys.reserved_at < $6 \
                    OR (idempotency_keys.response_body IS NULL \
                        AND idempotency_keys.reserved_at < $7) \
                 RETURNING 1",
            )
            .bind(key.organization_id.0)
            .bind(&key.owner)
            .bind(&key.key)
            .bind(fingerprint)
            .bind(ts(now))
            .bind(ts(expired_before))
            .bind(ts(abandoned_before))
            .bind(nonce.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
            if reserved.is_some() {
                return Ok(Reservation::Reserved(nonce));
            }
            let existing: Option<ExistingRow> = sqlx::query_as(
                "SELECT fingerprint, response_body \
                 FROM idempotency_keys WHERE organization_id = $1 AND owner = $2 AND key = $3",
            )
            .bind(key.organization_id.0)
            .bind(&key.owner)
            .bind(&key.key)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
            let Some((stored_fp, record)) = existing else {
                continue;
            };
            if stored_fp != fingerprint {
                return Ok(Reservation::Mismatch);
            }
            return Ok(match record {
                None => Reservation::InProgress,
                Some(record) => Reservation::Replay(ReplayRecord(record)),
            });
        }
        Err(unknown(anyhow!(
            "idempotency key kept changing while being reserved"
        )))
    }

    async fn complete(
        &self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await.map_err(unknown)?;
        complete_on(&mut conn, reserved, record).await
    }

    async fn release(&self, reserved: &ReservedKey) -> Result<(), StoreError> {
        let key: &IdempotencyKey = &reserved.key;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE organization_id = $1 AND owner = $2 \
             AND key = $3 AND response_body IS NULL AND nonce = $4",
        )
        .bind(key.organization_id.0)
        .bind(&key.owner)
        .bind(&key.key)
        .bind(reserved.nonce.0)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(())
    }
}
