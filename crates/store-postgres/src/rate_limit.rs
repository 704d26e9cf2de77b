//! [`RateLimitCounter`] on PostgreSQL: fixed-window counters in an UNLOGGED table, shared by
//! every server process on the database.
//!
//! Counters are disposable (lost on a crash, by design); old windows are deleted
//! opportunistically, never on every hit.
//!
//! A server counts through [`PgRateLimitCounter`]: its own small pool with a short acquire
//! timeout, so a rate-limit check never queues behind request work for the main pool's
//! connections, nor waits the main pool's acquire timeout when the database is gone.
//! `PgStore` implements the port too, over its main pool (tests and embedders).

use crate::{PgSettings, PgStore, unknown};
use async_trait::async_trait;
use domain::ports::{RateLimitCounter, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every this many hits (per store), windows older than [`KEEP_SECONDS`] are deleted.
const SWEEP_EVERY: u64 = 512;
/// Windows that started more than this long before the current one are garbage.
const KEEP_SECONDS: i64 = 24 * 3600;

#[async_trait]
impl RateLimitCounter for PgStore {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError> {
        hit(self.pool(), &self.rate_limit_hits, bucket, window_start).await
    }
}

/// The shared counters over their own pool (see the module documentation).
#[derive(Clone)]
pub struct PgRateLimitCounter {
    pool: PgPool,
    hits: Arc<AtomicU64>,
}

impl PgRateLimitCounter {
    /// A lazily connecting pool of `settings.max_connections` for the counters (the main
    /// store has migrated the table already).
    pub fn connect(url: &str, settings: &PgSettings) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy(url)?;
        Ok(Self {
            pool,
            hits: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The counters' pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl RateLimitCounter for PgRateLimitCounter {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError> {
        hit(&self.pool, &self.hits, bucket, window_start).await
    }
}

async fn hit(
    pool: &PgPool,
    hits: &AtomicU64,
    bucket: &str,
    window_start: i64,
) -> Result<u64, StoreError> {
    let n = hits.fetch_add(1, Ordering::Relaxed);
    if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
        sqlx::query("DELETE FROM rate_limit_counters WHERE window_start < $1")
            .bind(window_start.saturating_sub(KEEP_SECONDS))
            .execute(pool)
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
    .fetch_one(pool)
    .await
    .map_err(unknown)?;
    Ok(u64::try_from(count).unwrap_or(0))
}
