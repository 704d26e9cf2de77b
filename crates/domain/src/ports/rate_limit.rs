//! Shared rate-limit counters.

use super::StoreError;
use async_trait::async_trait;

/// Fixed-window request counters shared by several server processes.
#[async_trait]
pub trait RateLimitCounter: Send + Sync {
    /// Adds one hit to `bucket` in the window starting at `window_start` (epoch seconds) and
    /// returns the window's count including this hit.
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError>;
}
