//! The storage contract (`store-contract`) run against `SqliteStore`: every behaviour on its
//! own fresh, migrated database file (a file, not `:memory:`, so the concurrency behaviours race
//! real connections through SQLite's own locking).
// The factory aborts the test when it cannot build a store, as a test does.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use store_sqlite::SqliteStore;

/// A temporary directory holding one test's database, removed when the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn fresh() -> (Arc<SqliteStore>, TempDir) {
    let dir = std::env::temp_dir().join(format!("slotbook-contract-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("contract.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (Arc::new(store), TempDir(dir))
}

store_contract::contract_tests!(fresh(), overlap_count = |s| s.count_overlapping_bookings());
