//! [`RateLimitCounter`] on PostgreSQL: fixed-window counters in an UNLOGGED table, shared by
//! every server process on the database.
//!
//! Counters are disposable (lost on a crash, by design); old windows are deleted
//! opportunistically, never on every hit.

use crate::{PgStore, unknown};
use async_trait::async_trait;
use domain::ports::{RateLimitCounter, StoreError};
use std::sync::atomic::Ordering;

/// Every this many hits (per store), windows older than [`KEEP_SECONDS`] are deleted.
const SWEEP_EVERY: u64 = 512;
/// Windows that started more than this long before the current one are garbage.
const KEEP_SECONDS: i64 = 24 * 3600;

#[async_trait]
impl RateLimitCounter for PgStore {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError> {
        let n = self.rate_limit_hits.fetch_add(1, Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sqlx::query("DELETE FROM rate_limit_counters WHERE window_start < $1")
                .bind(window_start.saturating_sub(KEEP_SECONDS))
                .execute(self.pool())
                .await
                .map_err(unknown)?;
        }
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limit_counters (bucket, window_start, count) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) \
             DO UPDATE SET count = rate_limit_counters.count + 1 RETURNING count",
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(self.pool())
        .await
        .map_err(unknown)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
