//! Bookings per second through the storage port (begin → insert_booking → enqueue one outbox
//! message → commit, non-overlapping starts) against a baseline measured in the same run on the
//! same database file: single-row autocommit INSERTs into a plain table.
//!
//! Run: `cargo bench -p store-sqlite --bench bookings -- --warm-up-time 1 --measurement-time 5`.
//! Besides criterion's figures it prints the side-by-side medians of `store_contract::side_by_side`
//! (each operation's rate and its ratio to the baseline; target ≥ 0.5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::ports::{BookingStore, NewBookingWrite, OutboxMessage};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use store_contract::side_by_side;
use store_sqlite::SqliteStore;
use support::*;

struct Fixture {
    store: SqliteStore,
    world: World,
    /// Next free 30-minute slot index; never reused, so bookings never overlap.
    next_slot: AtomicI64,
    next_row: AtomicI64,
    _dir: TempDir,
}

async fn fixture() -> Arc<Fixture> {
    let (store, dir) = file_store("bench").await;
    let world = world(&store, "bench").await;
    sqlx::query("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    Arc::new(Fixture {
        store,
        world,
        next_slot: AtomicI64::new(0),
        next_row: AtomicI64::new(0),
        _dir: dir,
    })
}

async fn book_one(f: &Fixture) {
    let n = f.next_slot.fetch_add(1, Ordering::Relaxed);
    let base: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let start = base.checked_add(SignedDuration::from_mins(30 * n)).unwrap();
    let b = booking(&f.world.event_type, start);
    let msg = OutboxMessage {
        id: uuid::Uuid::now_v7().into(),
        organization_id: f.world.org.id,
        event: "booking.created".into(),
        payload: "{\"uid\":\"x\"}".into(),
        created_at: start,
    };
    let mut tx = f
        .store
        .begin(f.world.org.id, f.world.event_type.id)
        .await
        .unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    tx.enqueue(&msg).await.unwrap();
    tx.commit().await.unwrap();
}

/// The same booking through `BookingTx::commit_new_booking` (what `BookingService` uses):
/// begin → one batch for booking + outbox → commit.
async fn book_one_unit(f: &Fixture) {
    let n = f.next_slot.fetch_add(1, Ordering::Relaxed);
    let base: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let start = base.checked_add(SignedDuration::from_mins(30 * n)).unwrap();
    let b = booking(&f.world.event_type, start);
    let message = OutboxMessage {
        id: uuid::Uuid::now_v7().into(),
        organization_id: f.world.org.id,
        event: "booking.created".into(),
        payload: "{\"uid\":\"x\"}".into(),
        created_at: start,
    };
    let tx = f
        .store
        .begin(f.world.org.id, f.world.event_type.id)
        .await
        .unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &b,
        shares_seats: false,
        message: &message,
        replay: None,
    })
    .await
    .unwrap();
}

async fn baseline_one(f: &Fixture) {
    let n = f.next_row.fetch_add(1, Ordering::Relaxed);
    sqlx::query("INSERT INTO bench_baseline (id, payload) VALUES (?, ?)")
        .bind(n)
        .bind("{\"uid\":\"x\"}")
        .execute(f.store.pool())
        .await
        .unwrap();
}

async fn timed<F, Fut>(iters: u64, f: &Arc<Fixture>, op: F) -> Duration
where
    F: Fn(Arc<Fixture>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let t = Instant::now();
    for _ in 0..iters {
        op(f.clone()).await;
    }
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(fixture());
    let mut g = c.benchmark_group("sqlite_writes");
    g.throughput(Throughput::Elements(1));
    g.bench_function("booking_via_port", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let f = f.clone();
            async move { timed(iters, &f, |f| async move { book_one(&f).await }).await }
        })
    });
    g.bench_function("booking_commit_new_booking", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let f = f.clone();
            async move { timed(iters, &f, |f| async move { book_one_unit(&f).await }).await }
        })
    });
    g.bench_function("baseline_autocommit_insert", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let f = f.clone();
            async move { timed(iters, &f, |f| async move { baseline_one(&f).await }).await }
        })
    });
    g.finish();

    // Side by side on the same (now larger) database, interleaved in rounds.
    let (rounds, per_round) = (20, 250);
    let ops: [side_by_side::Op<'_>; 3] = [
        ("step-by-step", Box::new(|| Box::pin(book_one(&f)))),
        (
            "commit_new_booking",
            Box::new(|| Box::pin(book_one_unit(&f))),
        ),
        ("baseline insert", Box::new(|| Box::pin(baseline_one(&f)))),
    ];
    let figures = rt.block_on(side_by_side::measure(rounds, per_round, &ops));
    println!("{}", side_by_side::report(rounds, per_round, &figures));
}

criterion_group!(benches, bench);
criterion_main!(benches);
