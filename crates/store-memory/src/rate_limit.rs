//! [`RateLimitCounter`]: fixed-window hit counters per bucket. Only the two newest windows of a
//! bucket are kept (a late hit on the previous window still counts there); older ones are
//! dropped as newer ones arrive.

use crate::MemoryStore;
use async_trait::async_trait;
use domain::ports::{RateLimitCounter, StoreError};

/// Windows kept per bucket.
const KEPT_WINDOWS: usize = 2;

#[async_trait]
impl RateLimitCounter for MemoryStore {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let windows = state.rate_limits.entry(bucket.to_owned()).or_default();
        let count = windows.entry(window_start).or_insert(0);
        *count += 1;
        let count = *count;
        while windows.len() > KEPT_WINDOWS {
            windows.pop_first();
        }
        Ok(count)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hit(store: &MemoryStore, bucket: &str, window: i64) -> u64 {
        futures::executor::block_on(store.hit(bucket, window)).unwrap()
    }

    #[test]
    fn counts_per_bucket_and_window() {
        let store = MemoryStore::new();
        assert_eq!(hit(&store, "a", 60), 1);
        assert_eq!(hit(&store, "a", 60), 2);
        assert_eq!(hit(&store, "b", 60), 1);
        assert_eq!(hit(&store, "a", 120), 1, "a new window starts at zero");
        assert_eq!(
            hit(&store, "a", 60),
            3,
            "a late hit still counts in its window"
        );
        assert_eq!(hit(&store, "a", 180), 1);
        assert_eq!(hit(&store, "a", 120), 2);
        assert_eq!(
            store.state().rate_limits["a"]
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [120, 180],
            "only the newest windows are kept"
        );
    }
}
