//! Booking throughput through the ports versus a plain-INSERT baseline on the same database.
//!
//! `port`: begin (advisory slot lock) → insert_booking (exclusion constraint, jsonb) → enqueue
//! one outbox message → commit, with non-overlapping starts. `baseline`: one autocommitted
//! single-row INSERT into a plain table. Both report elements (bookings / rows) per second.
//!
//! Run: `cargo bench -p store-postgres --bench bookings -- --warm-up-time 1 --measurement-time 5`
//!
//! A benchmark is a test harness: a failed step should abort loudly, hence the allowances.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::availability::{Schedule, Zone};
use domain::booking::Booking;
use domain::ids::*;
use domain::organization::{Organization, Role, User, Username};
use domain::ports::*;
use domain::validate::Email;
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use store_contract::side_by_side;
use store_postgres::PgStore;
use uuid::Uuid;

struct Fixture {
    store: PgStore,
    org: OrganizationId,
    host: UserId,
    event_type: EventTypeId,
}

async fn fixture() -> Fixture {
    let (store, _url) = store_postgres::testing::fresh_database().await.unwrap();
    let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let org = OrganizationId(Uuid::now_v7());
    store
        .create_organization(&Organization {
            id: org,
            name: "Bench".into(),
            plan: None,
            created_at: now,
        })
        .await
        .unwrap();
    let host = UserId(Uuid::now_v7());
    store
        .create_user(&User {
            id: host,
            organization_id: org,
            username: Some(Username::parse("bench").unwrap()),
            email: Email::parse("bench@example.com").unwrap(),
            first_name: None,
            last_name: None,
            timezone: None,
            locale: None,
            avatar_url: None,
            role: Role::Owner,
            password_hash: None,
            created_at: now,
        })
        .await
        .unwrap();
    let schedule = ScheduleId(Uuid::now_v7());
    store
        .create_schedule(&Schedule {
            id: schedule,
            organization_id: org,
            user_id: host,
            name: "Work".into(),
            zone: Zone::utc(),
            rules: vec![],
            overrides: vec![],
            version: 1,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let event_type = fixtures::event_type(org, host, schedule, "intro", now);
    store.create_event_type(&event_type).await.unwrap();
    sqlx::query("CREATE TABLE bench_plain (id uuid PRIMARY KEY, n bigint NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    Fixture {
        store,
        org,
        host,
        event_type: event_type.id,
    }
}

fn booking(f: &Fixture, start: Timestamp) -> Booking {
    fixtures::booking(f.org, f.host, f.event_type, start, 30, "UTC", start)
}

async fn book_one(f: &Fixture, slot: i64) {
    let start = Timestamp::from_second(1_800_000_000 + slot * 1800).unwrap();
    let b = booking(f, start);
    let mut tx = f.store.begin(f.org, f.event_type).await.unwrap();
    tx.insert_booking(&b, false).await.unwrap();
    tx.enqueue(&OutboxMessage {
        id: OutboxId(Uuid::now_v7()),
        organization_id: f.org,
        event: "booking.created".into(),
        payload: format!(r#"{{"uid":"{}"}}"#, b.uid),
        created_at: start,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The same booking through [`BookingTx::commit_new_booking`] (what `BookingService` uses):
/// begin → one statement for booking + outbox → commit.
async fn book_one_unit(f: &Fixture, slot: i64) {
    let start = Timestamp::from_second(1_800_000_000 + slot * 1800).unwrap();
    let b = booking(f, start);
    let message = OutboxMessage {
        id: OutboxId(Uuid::now_v7()),
        organization_id: f.org,
        event: "booking.created".into(),
        payload: format!(r#"{{"uid":"{}"}}"#, b.uid),
        created_at: start,
    };
    let tx = f.store.begin(f.org, f.event_type).await.unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &b,
        shares_seats: false,
        message: &message,
        replay: None,
    })
    .await
    .unwrap();
}

async fn plain_insert(f: &Fixture, n: i64) {
    sqlx::query("INSERT INTO bench_plain (id, n) VALUES ($1, $2)")
        .bind(Uuid::now_v7())
        .bind(n)
        .execute(f.store.pool())
        .await
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = Arc::new(rt.block_on(fixture()));
    let slot = Arc::new(AtomicI64::new(0));
    let mut g = c.benchmark_group("bookings");
    g.throughput(Throughput::Elements(1));
    g.bench_function("port_begin_insert_enqueue_commit", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (f, slot) = (f.clone(), slot.clone());
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    book_one(&f, slot.fetch_add(1, Ordering::Relaxed)).await;
                }
                started.elapsed()
            }
        })
    });
    g.bench_function("port_commit_new_booking", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (f, slot) = (f.clone(), slot.clone());
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    book_one_unit(&f, slot.fetch_add(1, Ordering::Relaxed)).await;
                }
                started.elapsed()
            }
        })
    });
    g.bench_function("baseline_plain_insert_autocommit", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (f, slot) = (f.clone(), slot.clone());
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    plain_insert(&f, slot.fetch_add(1, Ordering::Relaxed)).await;
                }
                started.elapsed()
            }
        })
    });
    g.finish();
    let overlaps = rt.block_on(f.store.count_overlapping_bookings()).unwrap();
    assert_eq!(overlaps, 0, "the benchmark must never double-book");
    // Side by side, interleaved in rounds (criterion's own figures are above).
    let (rounds, per_round) = (20, 100);
    let next = || slot.fetch_add(1, Ordering::Relaxed);
    let ops: [side_by_side::Op<'_>; 3] = [
        ("step-by-step", Box::new(|| Box::pin(book_one(&f, next())))),
        (
            "commit_new_booking",
            Box::new(|| Box::pin(book_one_unit(&f, next()))),
        ),
        (
            "baseline insert",
            Box::new(|| Box::pin(plain_insert(&f, next()))),
        ),
    ];
    let figures = rt.block_on(side_by_side::measure(rounds, per_round, &ops));
    println!("{}", side_by_side::report(rounds, per_round, &figures));
    let overlaps = rt.block_on(f.store.count_overlapping_bookings()).unwrap();
    assert_eq!(overlaps, 0, "the benchmark must never double-book");
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
