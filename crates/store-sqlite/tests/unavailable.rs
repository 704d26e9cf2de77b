//! Overload is "unavailable", never an opaque failure: an exhausted pool, a write lock held by
//! another process past the busy timeout and a full writer queue all come back as errors whose
//! chain says [`UnavailableKind`] (the HTTP layer answers them `503` with `Retry-After`). Also
//! the durability defaults of a file database: `synchronous=FULL` and files created 0600, except
//! idempotency reservations and notification bookkeeping, committed without waiting for fsync
//! on their own connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use domain::notification::NotificationStore as _;
use domain::ports::*;
use std::time::{Duration, Instant};
use store_sqlite::{SqliteSettings, SqliteStore, Synchronous};
use support::*;

fn kind_of_create(e: CreateError) -> Option<UnavailableKind> {
    match e {
        CreateError::Unknown(e) => unavailable_kind(&e),
        CreateError::Duplicate { .. } => None,
    }
}

async fn store_with(dir: &TempDir, settings: SqliteSettings) -> SqliteStore {
    let store = SqliteStore::connect_with(&dir.url("db.sqlite"), &settings)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test]
async fn an_exhausted_pool_is_unavailable_after_the_acquire_timeout() {
    let dir = TempDir::new("pool");
    let store = store_with(
        &dir,
        SqliteSettings {
            acquire_timeout: Duration::from_millis(300),
            ..SqliteSettings::default()
        },
    )
    .await;
    let w = world(&store, "pool").await;
    // Hold every pooled connection.
    let mut held = Vec::new();
    while let Ok(c) = store.pool().acquire().await {
        held.push(c);
    }
    assert!(!held.is_empty());
    let started = Instant::now();
    // A read through the pool (the hot reads by key run on the calling thread instead: below).
    let err = store.list_schedules(w.org.id, None).await.unwrap_err();
    assert_eq!(
        err.unavailable_kind(),
        Some(UnavailableKind::PoolTimeout),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Reads by key do not take a pooled connection: they still answer.
    assert!(
        store
            .get_event_type(w.org.id, w.event_type.id)
            .await
            .unwrap()
            .is_some()
    );
    drop(held);
    // And the store serves again once connections are back.
    assert!(
        !store
            .list_schedules(w.org.id, None)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn reads_after_close_are_unavailable() {
    let dir = TempDir::new("closed");
    let store = store_with(&dir, SqliteSettings::default()).await;
    let w = world(&store, "closed").await;
    store.close().await;
    for err in [
        store
            .get_event_type(w.org.id, w.event_type.id)
            .await
            .unwrap_err(),
        store.list_schedules(w.org.id, None).await.unwrap_err(),
    ] {
        assert_eq!(
            err.unavailable_kind(),
            Some(UnavailableKind::ConnectionLost),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_write_lock_held_by_another_process_is_unavailable_past_the_busy_timeout() {
    let dir = TempDir::new("busy");
    let settings = SqliteSettings {
        lock_timeout: Duration::from_millis(200),
        ..SqliteSettings::default()
    };
    let a = store_with(&dir, settings).await;
    let w = world(&a, "busy").await;
    let b = store_with(&dir, settings).await;
    let held = a.begin(w.org.id, w.event_type.id).await.unwrap();
    // Not a booking write: an ordinary insert through the other pool.
    let err = b
        .create_organization(&organization(ts("2026-01-01T00:00:00Z")))
        .await
        .unwrap_err();
    assert_eq!(kind_of_create(err), Some(UnavailableKind::LockTimeout));
    // The same process: the in-process write turn times out as unavailable too.
    let err = a
        .create_organization(&organization(ts("2026-01-01T00:00:00Z")))
        .await
        .unwrap_err();
    assert_eq!(kind_of_create(err), Some(UnavailableKind::LockTimeout));
    drop(held);
    b.create_organization(&organization(ts("2026-01-01T00:00:00Z")))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_full_writer_queue_refuses_at_once() {
    let dir = TempDir::new("queue");
    let store = store_with(
        &dir,
        SqliteSettings {
            lock_timeout: Duration::from_secs(20),
            writer_queue: 2,
            ..SqliteSettings::default()
        },
    )
    .await;
    let w = world(&store, "queue").await;
    let held = store.begin(w.org.id, w.event_type.id).await.unwrap();
    // Two writers may wait behind the holder...
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                s.create_organization(&organization(ts("2026-01-01T00:00:00Z")))
                    .await
            })
        })
        .collect();
    // ...once both are queued (holder + 2 counted), a fourth writer is refused at once.
    while store.writers() < 3 {
        tokio::task::yield_now().await;
    }
    let started = Instant::now();
    let refused = store
        .create_organization(&organization(ts("2026-01-01T00:00:00Z")))
        .await
        .unwrap_err();
    assert_eq!(kind_of_create(refused), Some(UnavailableKind::QueueFull));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(held);
    for t in waiting {
        t.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn file_databases_are_durable_and_private_by_default() {
    let dir = TempDir::new("durable");
    let store = SqliteStore::connect(&dir.url("db.sqlite")).await.unwrap();
    store.migrate().await.unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let _ = world(&store, "durable").await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for name in ["db.sqlite", "db.sqlite-wal", "db.sqlite-shm"] {
            let path = dir.0.join(name);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}: {mode:o}");
        }
        assert!(store_sqlite::shared_files(&dir.0.join("db.sqlite")).is_empty());
        std::fs::set_permissions(
            dir.0.join("db.sqlite"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let shared = store_sqlite::shared_files(&dir.0.join("db.sqlite"));
        assert_eq!(shared, vec![(dir.0.join("db.sqlite"), 0o644)]);
    }
    // `normal` stays available.
    let other = TempDir::new("normal");
    let store = store_with(
        &other,
        SqliteSettings {
            synchronous: Synchronous::Normal,
            ..SqliteSettings::default()
        },
    )
    .await;
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 1, "synchronous=NORMAL");
}

/// Every write goes through the one writer connection, each with its own `synchronous`
/// level: idempotency reservations and the notification worker's bookkeeping commit with
/// `NORMAL`, acknowledged writes (bookings, autocommit writes such as a new schedule) with
/// the configured `FULL`, whatever the write before them set.
#[tokio::test]
async fn reservations_and_notification_bookkeeping_commit_unsynced_and_the_rest_full() {
    let dir = TempDir::new("unsynced");
    let store = SqliteStore::connect(&dir.url("db.sqlite")).await.unwrap();
    store.migrate().await.unwrap();
    let w = world(&store, "unsynced").await;
    let level = || async { store.writer_synchronous().await.unwrap() };
    assert_eq!(level().await, 2, "the world's writes: FULL");
    let key = IdempotencyKey {
        organization_id: w.org.id,
        owner: "pat:test".into(),
        key: "k1".into(),
    };
    let now = ts("2026-01-01T00:00:00Z");
    let lease = jiff::SignedDuration::from_secs(60);
    let reserved = store.reserve(&key, "fp", now, lease).await.unwrap();
    assert!(matches!(reserved, Reservation::Reserved(_)));
    assert_eq!(level().await, 1, "a reservation: NORMAL");
    let state: String = sqlx::query_scalar("SELECT state FROM idempotency_keys WHERE key = 'k1'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(state, "in_progress", "visible to the read pool");

    let b = booking(&w.event_type, ts("2030-01-01T09:00:00Z"));
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(level().await, 2, "a booking: FULL");

    assert!(
        store
            .claim_notifications(now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(level().await, 1, "notification bookkeeping: NORMAL");
    // An autocommit write after an unsynced one sets FULL again.
    let mut schedule = w.schedule.clone();
    schedule.id = uuid::Uuid::now_v7().into();
    schedule.name = "second".into();
    store.create_schedule(&schedule).await.unwrap();
    assert_eq!(level().await, 2, "a new schedule: FULL");
    assert!(store.get_booking(w.org.id, b.uid).await.unwrap().is_some());
}
