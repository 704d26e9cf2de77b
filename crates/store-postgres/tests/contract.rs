//! The storage contract (`store-contract`) run against `PgStore`: every behaviour on its own
//! freshly created and migrated database.
//!
//! Postgres must be reachable (`SLOTBOOK_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`): if it is not, every test fails loudly. Set
//! `SLOTBOOK_SKIP_POSTGRES=1` to skip them instead, with a warning on stderr.
// The factory aborts the test when it cannot build a store, as a test does.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use store_postgres::PgStore;

async fn fresh() -> Option<Arc<PgStore>> {
    match store_postgres::testing::fresh_database().await {
        Ok((store, _name)) => Some(Arc::new(store)),
        Err(e) if store_postgres::testing::skip_allowed() => {
            eprintln!(
                "WARNING: SLOTBOOK_SKIP_POSTGRES=1 and Postgres is unreachable ({e:#}): \
                 this Postgres storage contract test was SKIPPED and proves nothing."
            );
            None
        }
        Err(e) => panic!(
            "Postgres is unreachable, so the Postgres storage contract cannot run: {e:#}\n\
             Start Postgres (or point SLOTBOOK_TEST_POSTGRES_URL at one), or set \
             SLOTBOOK_SKIP_POSTGRES=1 to skip these tests deliberately."
        ),
    }
}

store_contract::contract_tests!(fresh(), overlap_count = |s| s.count_overlapping_bookings());
