//! The storage contract (`store-contract`) run against `MemoryStore`: every behaviour on its own
//! empty store, including the concurrency behaviours (real tasks on a multi-threaded runtime
//! racing for the writer turn) and the storm's overlap count asked of the store itself.

use std::sync::Arc;
use store_memory::MemoryStore;

async fn fresh() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

store_contract::contract_tests!(
    fresh(),
    overlap_count = |s| async move { Ok::<i64, anyhow::Error>(s.count_overlapping_bookings()) }
);
