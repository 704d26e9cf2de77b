//! The Postgres path of the binary's wiring: `open_store` picks the Postgres adapter from the
//! URL, migrates (again, idempotently), offers shared rate-limit counters, and the demo set-up
//! works on it. Fails loudly without Postgres unless `SLOTBOOK_SKIP_POSTGRES=1`.

use server::admin::AdminContext;
use server::wiring::{SystemClock, UuidV7, open_store};
use std::sync::Arc;

async fn fresh_url() -> Option<String> {
    match store_postgres::testing::fresh_database().await {
        Ok((_, url)) => Some(url),
        Err(e) if store_postgres::testing::skip_allowed() => {
            eprintln!("!!! SKIPPING a Postgres test (SLOTBOOK_SKIP_POSTGRES=1): {e:#}");
            None
        }
        Err(e) => panic!("{e:#}"),
    }
}

#[tokio::test]
async fn postgres_url_selects_postgres_with_shared_counters_and_runs_the_demo() {
    let Some(url) = fresh_url().await else { return };
    let opened = open_store(&url).await.unwrap();
    assert_eq!(opened.storage.backend(), "postgres");
    opened.storage.ping().await.unwrap();

    let counter = opened
        .shared_counter
        .expect("Postgres offers shared counters");
    let bucket = format!("test:{}", uuid::Uuid::now_v7());
    assert_eq!(counter.hit(&bucket, 1_800_000_000).await.unwrap(), 1);
    assert_eq!(counter.hit(&bucket, 1_800_000_000).await.unwrap(), 2);
    assert_eq!(
        counter.hit(&bucket, 1_800_000_060).await.unwrap(),
        1,
        "a new window starts at 1"
    );
    assert_eq!(
        counter.hit("other", 1_800_000_000).await.unwrap(),
        1,
        "buckets are independent"
    );

    let ctx = AdminContext {
        store: opened.storage.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper: auth::Pepper::new(vec![7; 32]),
    };
    let demo = server::demo::demo(&ctx).await.unwrap();
    assert!(demo.created);
    let again = server::demo::demo(&ctx).await.unwrap();
    assert!(!again.created, "a second demo reuses the demo user");
    assert_ne!(demo.token.id, again.token.id, "and mints a new token");
}
