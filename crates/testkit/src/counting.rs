//! Counting the `/v1` guard's database work ([`crate::spawn_app_counting`]): token reads of the
//! store and hits on the shared rate-limit counter, to prove a refusal cost none.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The database work of the `/v1` guard, counted by [`crate::spawn_app_counting`].
#[derive(Debug, Default)]
pub struct GuardDbWork {
    /// Token reads (`find_pat_by_lookup`, OAuth `find_token`).
    pub token_reads: Arc<AtomicU64>,
    /// Hits on the shared rate-limit counter (Postgres; SQLite has none).
    pub counter_hits: AtomicU64,
}

impl GuardDbWork {
    /// Token reads plus shared-counter hits so far.
    pub fn total(&self) -> u64 {
        self.token_reads.load(Ordering::SeqCst) + self.counter_hits.load(Ordering::SeqCst)
    }
}

/// A shared counter that counts its hits into [`GuardDbWork::counter_hits`].
pub(crate) struct CountingCounter {
    pub(crate) inner: Arc<dyn domain::ports::RateLimitCounter>,
    pub(crate) work: Arc<GuardDbWork>,
}

#[async_trait::async_trait]
impl domain::ports::RateLimitCounter for CountingCounter {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, domain::ports::StoreError> {
        self.work.counter_hits.fetch_add(1, Ordering::SeqCst);
        self.inner.hit(bucket, window_start).await
    }
}
