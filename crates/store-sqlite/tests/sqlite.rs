//! SQLite-specific behaviour of `SqliteStore`: migrations, `:memory:`, millisecond instants, the
//! write lock and its timeout, the double-booking guard under concurrency, and the query plans
//! the guard relies on. (The behaviour shared with Postgres lives in `store-contract`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use domain::booking::{BookingStatus, Metadata, MetadataValue, RawJson};
use domain::ports::*;
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use store_sqlite::SqliteStore;
use support::*;

#[tokio::test]
async fn migrations_apply_on_a_fresh_file_and_are_idempotent() {
    let dir = TempDir::new("migrate");
    let path = dir.0.join("nested.db");
    assert!(!path.exists());
    let store = SqliteStore::connect(&dir.url("nested.db")).await.unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists(), "the database file is created when missing");
    store.migrate().await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' \
         AND name NOT LIKE 'sqlite%' ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for t in [
        "booking_attendees",
        "bookings",
        "event_type_hosts",
        "event_types",
        "idempotency_keys",
        "organizations",
        "outbox",
        "personal_access_tokens",
        "schedules",
        "users",
    ] {
        assert!(
            tables.iter().any(|n| n == t),
            "missing table {t}: {tables:?}"
        );
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.unwrap();
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = TempDir::new("reopen");
    let w = {
        let store = SqliteStore::connect(&dir.url("db.sqlite")).await.unwrap();
        store.migrate().await.unwrap();
        let w = world(&store, "reopen").await;
        store.pool().close().await;
        w
    };
    let store = SqliteStore::connect(&dir.url("db.sqlite")).await.unwrap();
    store.migrate().await.unwrap();
    let et = store
        .get_event_type(w.org.id, w.event_type.id)
        .await
        .unwrap();
    assert_eq!(et, Some(w.event_type));
}

#[tokio::test]
async fn memory_databases_are_private_shared_by_clones_and_cleaned_up() {
    let a = SqliteStore::connect("sqlite::memory:").await.unwrap();
    a.migrate().await.unwrap();
    let b = SqliteStore::connect("sqlite::memory:").await.unwrap();
    b.migrate().await.unwrap();
    let w = world(&a, "memo").await;
    // every pooled connection sees the same database
    let clone = a.clone();
    let reads = futures_reads(&clone, w.org.id, 16).await;
    assert!(reads.iter().all(|n| *n == 1), "{reads:?}");
    assert!(b.get_organization(w.org.id).await.unwrap().is_none());
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(a.pool())
            .await
            .unwrap();
    let dir = std::path::Path::new(&file).parent().unwrap().to_path_buf();
    assert!(dir.exists());
    drop(clone);
    a.pool().close().await;
    drop(a);
    assert!(
        !dir.exists(),
        "scratch directory {} left behind",
        dir.display()
    );
}

/// Counts `org`'s users from `n` concurrent reads (so several pooled connections are used).
async fn futures_reads(
    store: &SqliteStore,
    org: domain::ids::OrganizationId,
    n: usize,
) -> Vec<usize> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.list_users(org).await.unwrap().len()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn instants_round_trip_at_millisecond_precision() {
    let (store, _dir) = file_store("ms").await;
    let w = world(&store, "millis").await;
    let start = ts("2026-03-01T10:00:00.123Z");
    let mut b = booking(&w.event_type, start);
    b.created_at = ts("2026-02-01T08:00:00.001Z");
    b.updated_at = ts("2026-02-01T08:00:00.999Z");
    b.cancelled_at = Some(ts("1969-12-31T23:59:59.999Z"));
    b.status = BookingStatus::Canceled;
    b.metadata = Some(Metadata(
        [
            ("k".to_string(), MetadataValue::Text("v".into())),
            (
                "j".to_string(),
                MetadataValue::Json(RawJson("[1, {\"a\": null}]".into())),
            ),
        ]
        .into(),
    ));
    b.responses = Some(RawJson("{\"q\": \"a\"}".into()));
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    tx.commit().await.unwrap();
    let got = store.get_booking(w.org.id, b.uid).await.unwrap().unwrap();
    assert_eq!(got, b);
    let raw: i64 = sqlx::query_scalar("SELECT start_at FROM bookings")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(raw, start.as_millisecond());

    // sub-millisecond digits are dropped, not rounded into another millisecond
    let mut fine = booking(&w.event_type, ts("2026-03-02T10:00:00.000900Z"));
    fine.created_at = ts("2026-03-02T10:00:00.000900Z");
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.insert_booking(&fine, false).await.unwrap();
    tx.commit().await.unwrap();
    let got = store
        .get_booking(w.org.id, fine.uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.start, ts("2026-03-02T10:00:00Z"));
}

#[tokio::test]
async fn a_second_writer_waits_and_then_times_out_with_lock_timeout() {
    let dir = TempDir::new("lock");
    let url = dir.url("db.sqlite");
    let a = SqliteStore::connect_with_lock_timeout(&url, Duration::from_millis(200))
        .await
        .unwrap();
    a.migrate().await.unwrap();
    let w = world(&a, "locker").await;
    // Another process on the same file (a second pool): SQLite's busy timeout applies.
    let b = SqliteStore::connect_with_lock_timeout(&url, Duration::from_millis(200))
        .await
        .unwrap();
    let held = a.begin(w.org.id, w.event_type.id).await.unwrap();
    let err = b.begin(w.org.id, w.event_type.id).await.err().unwrap();
    assert!(matches!(err, BookingWriteError::LockTimeout), "{err:?}");
    // The same process: the in-process write turn times out the same way.
    let err = a.begin(w.org.id, w.event_type.id).await.err().unwrap();
    assert!(matches!(err, BookingWriteError::LockTimeout), "{err:?}");
    // Reads are never blocked by a writer.
    assert!(
        b.get_event_type(w.org.id, w.event_type.id)
            .await
            .unwrap()
            .is_some()
    );
    drop(held);
    let tx = b.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn fifty_concurrent_inserts_on_one_slot_let_exactly_one_win() {
    let (store, _dir) = file_store("storm").await;
    let w = world(&store, "storm").await;
    let start = ts("2026-06-01T09:00:00Z");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = store.clone();
        let et = w.event_type.clone();
        tasks.push(tokio::spawn(async move {
            // stagger the starts inside one overlapping range: 09:00..09:49
            let b = booking(
                &et,
                start
                    .checked_add(SignedDuration::from_mins(i % 25))
                    .unwrap(),
            );
            let mut tx = s.begin(et.organization_id, et.id).await?;
            tx.insert_booking(&b, false).await?;
            tx.commit().await?;
            Ok::<_, BookingWriteError>(())
        }));
    }
    let mut ok = 0;
    let mut unavailable = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(BookingWriteError::SlotUnavailable) => unavailable += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((ok, unavailable), (1, 49));
    assert_eq!(store.count_overlapping_bookings().await.unwrap(), 0);
}

#[tokio::test]
async fn the_guard_spans_event_types_and_respects_seats_and_status() {
    let (store, _dir) = file_store("guard").await;
    let w = world(&store, "guard").await;
    let now = ts("2026-01-01T00:00:00Z");
    let other = event_type(w.org.id, w.host.id, w.schedule.id, "other", now);
    store.create_event_type(&other).await.unwrap();
    let start = ts("2026-06-01T09:00:00Z");
    let insert = |b: domain::booking::Booking, seats: bool| {
        let s = store.clone();
        async move {
            let mut tx = s.begin(b.organization_id, b.event_type_id).await?;
            tx.insert_booking(&b, seats).await?;
            tx.commit().await?;
            Ok::<_, BookingWriteError>(b)
        }
    };
    let first = insert(booking(&w.event_type, start), false).await.unwrap();
    // another event type of the same host, overlapping
    let clash = booking(
        &other,
        start.checked_add(SignedDuration::from_mins(15)).unwrap(),
    );
    assert!(matches!(
        insert(clash, false).await,
        Err(BookingWriteError::SlotUnavailable)
    ));
    // touching is not overlapping
    insert(
        booking(
            &other,
            start.checked_add(SignedDuration::from_mins(30)).unwrap(),
        ),
        false,
    )
    .await
    .unwrap();
    // a canceled booking frees its time
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    let mut b = tx.get_booking(first.uid).await.unwrap().unwrap();
    b.cancel(None, true, now).unwrap();
    tx.update_booking(&b, 1).await.unwrap();
    tx.commit().await.unwrap();
    insert(booking(&w.event_type, start), false).await.unwrap();
    // reviving the canceled one now overlaps: refused by the same guard
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    let mut revived = tx.get_booking(first.uid).await.unwrap().unwrap();
    revived.status = BookingStatus::Confirmed;
    revived.version += 1;
    assert!(matches!(
        tx.update_booking(&revived, 2).await,
        Err(BookingWriteError::SlotUnavailable)
    ));
    assert!(matches!(
        tx.update_booking(&revived, 7).await,
        Err(BookingWriteError::VersionConflict)
    ));
    drop(tx);

    // group seats of one slot coexist; a seat at another overlapping start does not
    let group_start = ts("2026-06-02T09:00:00Z");
    let seat1 = insert(booking(&w.event_type, group_start), true)
        .await
        .unwrap();
    let seat2 = insert(booking(&w.event_type, group_start), true)
        .await
        .unwrap();
    let shifted = booking(
        &w.event_type,
        group_start
            .checked_add(SignedDuration::from_mins(10))
            .unwrap(),
    );
    assert!(matches!(
        insert(shifted, true).await,
        Err(BookingWriteError::SlotUnavailable)
    ));
    // updating one seat (e.g. a PATCH) keeps it a seat
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    let mut s2 = tx.get_booking(seat2.uid).await.unwrap().unwrap();
    s2.title = Some("patched".into());
    s2.version += 1;
    tx.update_booking(&s2, 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(seat1.uid, seat2.uid);
    assert_eq!(store.count_overlapping_bookings().await.unwrap(), 0);

    // the diagnostic sees a forced overlap
    sqlx::query("UPDATE bookings SET status = 'confirmed' WHERE uid = ?")
        .bind(first.uid.as_uuid())
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.count_overlapping_bookings().await.unwrap(), 1);
}

#[tokio::test]
async fn dropping_a_booking_write_rolls_everything_back() {
    let (store, _dir) = file_store("rollback").await;
    let w = world(&store, "rollback").await;
    let b = booking(&w.event_type, ts("2026-06-01T09:00:00Z"));
    let msg = OutboxMessage {
        id: uuid::Uuid::now_v7().into(),
        organization_id: w.org.id,
        event: "booking.created".into(),
        payload: "{}".into(),
        created_at: b.created_at,
    };
    {
        let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
        tx.insert_booking(&b, false).await.unwrap();
        tx.enqueue(&msg).await.unwrap();
        assert!(
            tx.get_booking(b.uid).await.unwrap().is_some(),
            "sees own writes"
        );
    }
    assert!(store.get_booking(w.org.id, b.uid).await.unwrap().is_none());
    assert!(store.pending(w.org.id).await.unwrap().is_empty());
    // and the write lock was released
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.get_booking(w.org.id, b.uid).await.unwrap().is_some());
}

#[tokio::test]
async fn guard_and_busy_reads_use_the_partial_host_index() {
    use sqlx::Row as _;
    let (store, _dir) = file_store("plan").await;
    let rows = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT 1 FROM bookings o \
         WHERE o.organization_id = ? AND o.host_user_id = ? \
         AND o.status IN ('confirmed', 'pending') AND o.blocked_end > ? AND o.blocked_start < ?",
    )
    .bind(uuid::Uuid::nil())
    .bind(uuid::Uuid::nil())
    .bind(0i64)
    .bind(1i64)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
    assert!(
        plan.iter().any(|d| d.contains("bookings_host_busy")),
        "plan: {plan:?}"
    );
}

#[tokio::test]
async fn reads_see_only_committed_data_while_a_write_is_open() {
    let (store, _dir) = file_store("iso").await;
    let w = world(&store, "iso").await;
    let b = booking(&w.event_type, ts("2026-06-01T09:00:00Z"));
    let mut tx = store.begin(w.org.id, w.event_type.id).await.unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    let window =
        domain::interval::Interval::new(ts("2026-06-01T00:00:00Z"), ts("2026-06-02T00:00:00Z"))
            .unwrap();
    let window = domain::slots::input_ranges(&w.event_type, window);
    let outside = store
        .slot_inputs(&w.event_type, window, Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    assert!(outside.hosts[0].busy.is_empty());
    let inside = tx
        .slot_inputs(&w.event_type, window, Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(inside.hosts[0].busy.len(), 1);
    assert_eq!(inside.hosts[0].schedule, w.schedule);
    tx.commit().await.unwrap();
}

/// The commit signal wakes the webhook worker. A claim that leases nothing, or a fan-out that
/// inserts no delivery, must not raise it:
/// the worker's own empty pass would wake it again at once, and an idle server would spin on
/// empty claims (it did: ~1,500 passes a second, 80 % of a core, the writer always taken).
#[tokio::test]
async fn only_writes_that_leave_the_worker_work_raise_the_commit_signal() {
    use domain::notification::NotificationStore as _;
    use domain::webhook::WebhookStore as _;
    use futures::FutureExt as _;
    let (store, _dir) = file_store("signal").await;
    let w = world(&store, "signal").await;
    let signal = store.commit_signal();
    // Whatever setting up the world raised.
    let _ = signal.notified().now_or_never();
    let now = ts("2026-06-01T10:00:00Z");
    let lease = SignedDuration::from_secs(30);
    assert!(store.claim(now, lease, 10).await.unwrap().is_empty());
    assert!(
        store
            .claim_deliveries(now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_notification_events(&["booking.created"], now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_notifications(now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        signal.notified().now_or_never().is_none(),
        "an empty claim raised the commit signal"
    );
    // Nor does an idempotency reservation (an unsynced write: never work for the worker).
    let key = IdempotencyKey {
        organization_id: w.org.id,
        owner: "pat:1".into(),
        key: "k1".into(),
    };
    store.reserve(&key, "f1", now, lease).await.unwrap();
    assert!(
        signal.notified().now_or_never().is_none(),
        "an idempotency reservation raised the commit signal"
    );
    store
        .enqueue(&OutboxMessage {
            id: uuid::Uuid::now_v7().into(),
            organization_id: w.org.id,
            event: "booking.created".into(),
            payload: "{}".into(),
            created_at: now,
        })
        .await
        .unwrap();
    assert!(
        signal.notified().now_or_never().is_some(),
        "a commit that wrote"
    );
    let claimed = store.claim(now, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        signal.notified().now_or_never().is_some(),
        "a claim that leased a message"
    );
    // A fan-out to no webhook leaves the worker nothing: no signal.
    store.fan_out(&claimed[0], &[], now).await.unwrap();
    assert!(
        signal.notified().now_or_never().is_none(),
        "a fan-out that inserted no delivery raised the commit signal"
    );
    assert!(store.pending(w.org.id).await.unwrap().is_empty());
}
