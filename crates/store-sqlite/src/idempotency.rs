//! [`IdempotencyStore`]: idempotency records keyed by (organization, credential owner, key).
//!
//! `reserve` answers a held key (replay, in progress, mismatch) from a read connection and
//! takes an absent, expired or abandoned one in one `BEGIN IMMEDIATE` transaction that reads
//! and writes the record, so two concurrent reservations of one key cannot both win. Expiry is judged by the caller's `now`
//! and `lease` (never the wall clock), so tests can drive it with a fake clock. Each
//! reservation stores its random nonce (`nonce`, 16-byte UUID); completion and release match
//! on it.

use crate::codec::{Result, col};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use domain::ports::{
    IDEMPOTENCY_TTL, IdempotencyKey, IdempotencyStore, ReplayRecord, Reservation, ReservationNonce,
    ReservedKey, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use sqlx::SqliteConnection;

pub(crate) const IN_PROGRESS: &str = "in_progress";
pub(crate) const DONE: &str = "done";

/// The completion statement: binds state `done`, the record, organization, owner, key, nonce,
/// state `in_progress`. It touches no row when the reservation is no longer the caller's.
pub(crate) const COMPLETE_SQL: &str = "UPDATE idempotency_keys SET state = ?, response_body = ? \
     WHERE organization_id = ? AND owner = ? AND key = ? AND nonce = ? AND state = ?";

/// Stores the replay record of `reserved` on `conn` (a booking transaction or an autocommit
/// write), in `response_body` (`response_status` and `response_headers` stay unused), only
/// while `reserved` still holds its key; otherwise `reservation_lost` (the caller's
/// transaction must then not commit).
pub(crate) async fn complete_on(
    conn: &mut SqliteConnection,
    reserved: &ReservedKey,
    record: &ReplayRecord,
) -> Result<()> {
    let key = &reserved.key;
    let done = sqlx::query(COMPLETE_SQL)
        .bind(DONE)
        .bind(&record.0)
        .bind(key.organization_id.as_uuid())
        .bind(&key.owner)
        .bind(&key.key)
        .bind(reserved.nonce.0)
        .bind(IN_PROGRESS)
        .execute(&mut *conn)
        .await
        .map_err(db_err("storing idempotent response"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::reservation_lost());
    }
    Ok(())
}

/// What a stored record means for a new reservation: `Some` when the key is held (replay,
/// in progress or another body's), `None` when it is absent, expired or abandoned and may be
/// (re)taken.
fn held(
    row: Option<&sqlx::sqlite::SqliteRow>,
    fingerprint: &str,
    now_ms: i64,
    ttl_ms: i64,
    lease_ms: i64,
) -> Result<Option<Reservation>> {
    let Some(row) = row else { return Ok(None) };
    let created: i64 = col(row, "created_at")?;
    let state: String = col(row, "state")?;
    let age = now_ms.saturating_sub(created);
    let expired = age > ttl_ms;
    let abandoned = state == IN_PROGRESS && age > lease_ms;
    if expired || abandoned {
        return Ok(None);
    }
    let stored: String = col(row, "fingerprint")?;
    if stored != fingerprint {
        return Ok(Some(Reservation::Mismatch));
    }
    if state != DONE {
        return Ok(Some(Reservation::InProgress));
    }
    let record: Option<String> = col(row, "response_body")?;
    let record = record.ok_or_else(|| crate::codec::corrupt("idempotent replay record"))?;
    Ok(Some(Reservation::Replay(ReplayRecord(record))))
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (organization_id, owner, key) IN ( \
               SELECT organization_id, owner, key FROM idempotency_keys \
               WHERE created_at < ? ORDER BY created_at LIMIT ?)",
        )
        .bind(before.as_millisecond())
        .bind(i64::from(max))
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("purging idempotency keys"))?
        .rows_affected();
        w.commit()
            .await
            .map_err(db_err("committing the idempotency purge"))?;
        Ok(n)
    }

    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Reservation> {
        let now_ms = now.as_millisecond();
        let ttl_ms = IDEMPOTENCY_TTL.as_millis() as i64;
        let lease_ms = lease.as_millis() as i64;
        let select = "SELECT fingerprint, state, response_body, created_at FROM idempotency_keys \
             WHERE organization_id = ? AND owner = ? AND key = ?";
        // A key that is held (in progress, done, or another body's) is answered from a read
        // connection: a retry polling an in-progress key costs no write transaction, so a
        // storm of such polls cannot fill the single writer's queue ahead of real work.
        // What this snapshot says stays true for a held key (a release only makes the caller
        // retry), so only "absent, expired or abandoned" is decided again under the write.
        let seen = sqlx::query(select)
            .bind(key.organization_id.as_uuid())
            .bind(&key.owner)
            .bind(&key.key)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading idempotency key"))?;
        if let Some(held) = held(seen.as_ref(), fingerprint, now_ms, ttl_ms, lease_ms)? {
            return Ok(held);
        }
        // The reservation's commit does not wait for fsync: the booking's commit does, and
        // makes it durable first (`begin_unsynced_write`).
        let mut w = self.begin_unsynced_write().await?;
        let row = sqlx::query(select)
            .bind(key.organization_id.as_uuid())
            .bind(&key.owner)
            .bind(&key.key)
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(db_err("reading idempotency key"))?;
        if let Some(held) = held(row.as_ref(), fingerprint, now_ms, ttl_ms, lease_ms)? {
            return Ok(held);
        }
        // Absent, expired or abandoned: (re)take the key, under a new nonce.
        let nonce = ReservationNonce(uuid::Uuid::new_v4());
        sqlx::query(
            "INSERT INTO idempotency_keys (organization_id, owner, key, fingerprint, state, \
             response_status, response_headers, response_body, created_at, nonce) \
             VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?) \
             ON CONFLICT (organization_id, owner, key) DO UPDATE SET \
             fingerprint = excluded.fingerprint, state = excluded.state, response_status = NULL, \
             response_headers = NULL, response_body = NULL, created_at = excluded.created_at, \
             nonce = excluded.nonce",
        )
        .bind(key.organization_id.as_uuid())
        .bind(&key.owner)
        .bind(&key.key)
        .bind(fingerprint)
        .bind(IN_PROGRESS)
        .bind(now_ms)
        .bind(nonce.0)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("reserving idempotency key"))?;
        w.commit()
            .await
            .map_err(db_err("committing idempotency reservation"))?;
        Ok(Reservation::Reserved(nonce))
    }

    async fn complete(&self, reserved: &ReservedKey, record: &ReplayRecord) -> Result<()> {
        let mut w = self.begin_write().await?;
        complete_on(&mut w.tx, reserved, record).await?;
        w.commit()
            .await
            .map_err(db_err("committing idempotent response"))?;
        Ok(())
    }

    async fn release(&self, reserved: &ReservedKey) -> Result<()> {
        let key: &IdempotencyKey = &reserved.key;
        self.write_one(
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE organization_id = ? AND owner = ? AND key = ? \
                 AND state = ? AND nonce = ?",
            )
            .bind(key.organization_id.as_uuid())
            .bind(&key.owner)
            .bind(&key.key)
            .bind(IN_PROGRESS)
            .bind(reserved.nonce.0),
        )
        .await
        .map_err(db_err("releasing idempotency key"))?;
        Ok(())
    }
}
