//! Postgres-specific behaviour of `PgStore`: the database itself refuses double booking, the
//! slot lock serialises writers and times out, and rows round-trip. The shared behaviour suite
//! lives in `contract.rs`; this file covers what only Postgres promises.
// Fixture helpers outside `#[test]` functions abort the test on failure, as tests do.
#![allow(clippy::unwrap_used, clippy::panic)]

mod fixtures;

use domain::availability::{Schedule, Zone};
use domain::booking::{Booking, Metadata, MetadataValue, RawJson};
use domain::event_type::EventType;
use domain::ids::*;
use domain::interval::Interval;
use domain::organization::{Organization, Role, User, Username};
use domain::pagination::{Cursor, Limit, PageRequest};
use domain::ports::*;
use domain::validate::Email;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use store_postgres::PgStore;
use store_postgres::testing::fresh_database;
use uuid::Uuid;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct World {
    store: PgStore,
    org: OrganizationId,
    host: UserId,
    event_type: EventType,
}

async fn world() -> World {
    let (store, _url) = fresh_database().await.unwrap();
    let now = t("2026-01-01T00:00:00Z");
    let org = OrganizationId(Uuid::now_v7());
    store
        .create_organization(&Organization {
            id: org,
            name: "Acme".into(),
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
            username: Some(Username::parse(&format!("u{}", host.0.simple())).unwrap()),
            email: Email::parse("host@example.com").unwrap(),
            first_name: Some("Ada".into()),
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
    let schedule = Schedule {
        id: ScheduleId(Uuid::now_v7()),
        organization_id: org,
        user_id: host,
        name: "Work".into(),
        zone: Zone::parse("Europe/Berlin").unwrap(),
        rules: vec![],
        overrides: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_schedule(&schedule).await.unwrap();
    let event_type = fixtures::event_type(org, host, schedule.id, "intro", now);
    store.create_event_type(&event_type).await.unwrap();
    World {
        store,
        org,
        host,
        event_type,
    }
}

fn booking(w: &World, et: EventTypeId, start: Timestamp, minutes: i64) -> Booking {
    fixtures::booking(
        w.org,
        w.host,
        et,
        start,
        minutes,
        "Europe/Berlin",
        t("2026-01-01T00:00:00Z"),
    )
}

async fn insert(w: &World, b: &Booking, shares_seats: bool) -> Result<(), BookingWriteError> {
    let mut tx = w.store.begin(w.org, b.event_type_id).await?;
    tx.insert_booking(b, shares_seats).await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn booking_round_trips_with_nested_json() {
    let w = world().await;
    let mut b = booking(&w, w.event_type.id, t("2026-03-02T09:00:00Z"), 30);
    b.metadata = Some(Metadata(
        [
            ("plain".to_string(), MetadataValue::Text("x".into())),
            (
                "nested".to_string(),
                MetadataValue::Json(RawJson(r#"{"a":[1,true,null]}"#.into())),
            ),
        ]
        .into(),
    ));
    b.responses = Some(RawJson(r#"{"notes":"hi"}"#.into()));
    b.guests = vec!["a@b.co".into()];
    insert(&w, &b, false).await.unwrap();
    assert_eq!(
        w.store.get_booking(w.org, b.uid).await.unwrap(),
        Some(b.clone())
    );
    let other_org = OrganizationId(Uuid::now_v7());
    assert_eq!(w.store.get_booking(other_org, b.uid).await.unwrap(), None);
    let found = w
        .store
        .get_event_type(w.org, w.event_type.id)
        .await
        .unwrap();
    assert_eq!(found, Some(w.event_type.clone()));
}

#[tokio::test]
async fn exclusion_constraint_refuses_overlap_written_with_raw_sql() {
    let w = world().await;
    let b = booking(&w, w.event_type.id, t("2026-03-02T09:00:00Z"), 30);
    insert(&w, &b, false).await.unwrap();
    // Bypass the ports entirely: a hand-written row overlapping by 15 minutes.
    let err = sqlx::query(
        "INSERT INTO bookings (organization_id, uid, version, event_type_id, status, start_at, \
         end_at, blocked, slot_key, timezone, host_user_id, attendees, guests, \
         calendar_sync_status, reschedule_generation, created_at, updated_at) \
         VALUES ($1, $2, 1, $3, 'pending', '2026-03-02T09:15:00Z', '2026-03-02T09:45:00Z', \
         tstzrange('2026-03-02T09:15:00Z', '2026-03-02T09:45:00Z', '[)'), $2::text, 'UTC', $4, \
         '[]', '[]', 'not_applicable', 0, now(), now())",
    )
    .bind(w.org.0)
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(w.host.0)
    .execute(w.store.pool())
    .await
    .unwrap_err();
    assert!(store_postgres::is_no_overlap_violation(&err), "{err}");
    // Touching is not overlapping, and canceled rows hold no time.
    sqlx::query(
        "INSERT INTO bookings (organization_id, uid, version, event_type_id, status, start_at, \
         end_at, blocked, slot_key, timezone, host_user_id, attendees, guests, \
         calendar_sync_status, reschedule_generation, created_at, updated_at) \
         VALUES ($1, $2, 1, $3, 'confirmed', '2026-03-02T09:30:00Z', '2026-03-02T10:00:00Z', \
         tstzrange('2026-03-02T09:30:00Z', '2026-03-02T10:00:00Z', '[)'), $2::text, 'UTC', $4, \
         '[]', '[]', 'not_applicable', 0, now(), now())",
    )
    .bind(w.org.0)
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(w.host.0)
    .execute(w.store.pool())
    .await
    .unwrap();
    assert_eq!(w.store.count_overlapping_bookings().await.unwrap(), 0);
}

#[tokio::test]
async fn fifty_writers_on_one_slot_exactly_one_wins() {
    let w = Arc::new(world().await);
    let start = t("2026-03-02T09:00:00Z");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let w = w.clone();
            tokio::spawn(async move {
                let b = booking(&w, w.event_type.id, start, 30);
                insert(&w, &b, false).await
            })
        })
        .collect();
    let (mut ok, mut busy) = (0, 0);
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(()) => ok += 1,
            Err(BookingWriteError::SlotUnavailable) => busy += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((ok, busy), (1, 49));
    assert_eq!(w.store.count_overlapping_bookings().await.unwrap(), 0);
}

#[tokio::test]
async fn concurrent_writers_across_event_types_still_never_overlap() {
    // Different event types take different slot locks: only the constraint can decide.
    let w = Arc::new(world().await);
    let schedule = w.event_type.hosts[0].schedule_id;
    let mut ids = vec![];
    for i in 0..10 {
        let et = fixtures::event_type(
            w.org,
            w.host,
            schedule,
            &format!("et-{i}"),
            t("2026-01-01T00:00:00Z"),
        );
        w.store.create_event_type(&et).await.unwrap();
        ids.push(et.id);
    }
    let tasks: Vec<_> = ids
        .into_iter()
        .enumerate()
        .map(|(i, et)| {
            let w = w.clone();
            tokio::spawn(async move {
                // Staggered starts: every pair overlaps.
                let start = t("2026-03-02T09:00:00Z") + SignedDuration::from_mins(i as i64);
                insert(&w, &booking(&w, et, start, 30), false).await
            })
        })
        .collect();
    let mut ok = 0;
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(()) => ok += 1,
            Err(BookingWriteError::SlotUnavailable) | Err(BookingWriteError::LockTimeout) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(w.store.count_overlapping_bookings().await.unwrap(), 0);
}

#[tokio::test]
async fn group_seats_share_a_slot_but_block_other_bookings() {
    let w = world().await;
    let start = t("2026-03-02T09:00:00Z");
    for _ in 0..3 {
        insert(&w, &booking(&w, w.event_type.id, start, 30), true)
            .await
            .unwrap();
    }
    let single = booking(&w, w.event_type.id, start, 30);
    assert!(matches!(
        insert(&w, &single, false).await,
        Err(BookingWriteError::SlotUnavailable)
    ));
    let inputs = w
        .store
        .slot_inputs(
            &w.event_type,
            domain::slots::input_ranges(
                &w.event_type,
                Interval::new(start, start + SignedDuration::from_hours(1)).unwrap(),
            ),
            start,
        )
        .await
        .unwrap();
    assert_eq!(inputs.hosts.len(), 1);
    assert_eq!(inputs.hosts[0].busy.len(), 3);
    assert_eq!(w.store.count_overlapping_bookings().await.unwrap(), 0);
}

#[tokio::test]
async fn slot_lock_timeout_maps_to_lock_timeout() {
    let w = world().await;
    let holder = w.store.begin(w.org, w.event_type.id).await.unwrap();
    let impatient = w
        .store
        .clone()
        .with_lock_timeout(Duration::from_millis(100));
    let err = impatient.begin(w.org, w.event_type.id).await.err();
    assert!(
        matches!(err, Some(BookingWriteError::LockTimeout)),
        "{err:?}"
    );
    // Another event type is not blocked.
    let schedule = w.event_type.hosts[0].schedule_id;
    let other = fixtures::event_type(w.org, w.host, schedule, "other", t("2026-01-01T00:00:00Z"));
    w.store.create_event_type(&other).await.unwrap();
    assert!(impatient.begin(w.org, other.id).await.is_ok());
    drop(holder);
    assert!(impatient.begin(w.org, w.event_type.id).await.is_ok());
}

/// Connections of this test's database that sit inside a transaction, open or aborted.
async fn idle_in_transaction(store: &PgStore) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// A caller that gives up while it waits for the slot lock (a request timeout) must not hand a
/// connection back to the pool inside a transaction that holds, or later takes, the lock. (Guards
/// against merging `BEGIN` and the lock via sqlx's `begin_with`, which would: BENCHMARKS.md
/// "2026-12-04".)
#[tokio::test]
async fn a_begin_cancelled_while_waiting_for_the_lock_leaves_no_transaction_behind() {
    let w = world().await;
    let holder = w.store.begin(w.org, w.event_type.id).await.unwrap();
    let waited = tokio::time::timeout(
        Duration::from_millis(100),
        w.store.begin(w.org, w.event_type.id),
    )
    .await;
    assert!(waited.is_err(), "the second writer must still be waiting");
    drop(holder);
    // If the cancelled begin had gone back to the pool holding the lock, this would time out.
    let patient = w.store.clone().with_lock_timeout(Duration::from_secs(10));
    let tx = patient.begin(w.org, w.event_type.id).await.unwrap();
    tx.commit().await.unwrap();
    let open = idle_in_transaction(&w.store).await;
    assert_eq!(open, 0, "no pooled connection may sit inside a transaction");
}

/// A lock that is not granted in time rolls its transaction back before the error is
/// returned: the connection serves the next caller outside any transaction.
#[tokio::test]
async fn a_lock_timeout_returns_the_connection_outside_a_transaction() {
    let w = world().await;
    let holder = w.store.begin(w.org, w.event_type.id).await.unwrap();
    let impatient = w.store.clone().with_lock_timeout(Duration::from_millis(50));
    for _ in 0..6 {
        // More attempts than the test pool has connections: each one reuses a connection.
        let err = impatient.begin(w.org, w.event_type.id).await.err();
        assert!(
            matches!(err, Some(BookingWriteError::LockTimeout)),
            "{err:?}"
        );
    }
    holder.commit().await.unwrap();
    let open = idle_in_transaction(&w.store).await;
    assert_eq!(open, 0, "a pooled connection was left inside a transaction");
}

#[tokio::test]
async fn optimistic_update_and_keyset_pages() {
    let w = world().await;
    let mut all = vec![];
    for i in 0..7 {
        let b = booking(
            &w,
            w.event_type.id,
            t("2026-03-02T09:00:00Z") + SignedDuration::from_hours(i),
            30,
        );
        insert(&w, &b, false).await.unwrap();
        all.push(b);
    }
    let mut changed = all[0].clone();
    changed
        .cancel(None, true, t("2026-01-02T00:00:00Z"))
        .unwrap();
    let mut tx = w.store.begin(w.org, w.event_type.id).await.unwrap();
    tx.update_booking(&changed, 1).await.unwrap();
    assert!(matches!(
        tx.update_booking(&changed, 1).await,
        Err(BookingWriteError::VersionConflict)
    ));
    drop(tx); // rolled back
    assert_eq!(
        w.store
            .get_booking(w.org, all[0].uid)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    let mut seen = vec![];
    let mut after: Option<Cursor> = None;
    loop {
        let q = BookingQuery {
            sort: BookingSort::StartAtDesc,
            page: PageRequest {
                limit: Limit::new(3).unwrap(),
                after: after.clone(),
            },
            ..Default::default()
        };
        let page = w.store.list_bookings(w.org, &q).await.unwrap();
        seen.extend(page.items.iter().map(|b| b.uid));
        match page.next_cursor {
            Some(c) => after = Some(Cursor::decode(&c, "start_at_desc").unwrap()),
            None => break,
        }
    }
    let expected: Vec<_> = all.iter().rev().map(|b| b.uid).collect();
    assert_eq!(seen, expected);
    let q = BookingQuery {
        attendee_email: Some("GUEST@example.com".into()),
        ..Default::default()
    };
    assert!(
        w.store
            .list_bookings(w.org, &q)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// The shared rate-limit counters have a pool of their own: with every connection of the main
/// pool taken they still count, and with their own pool taken they give up after their short
/// acquire timeout (unavailable), not the main pool's.
#[tokio::test]
async fn rate_limit_counters_have_their_own_pool_and_timeout() {
    use domain::ports::RateLimitCounter as _;
    use std::time::{Duration, Instant};
    let (_, url) = fresh_database().await.unwrap();
    let settings = store_postgres::PgSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
    };
    let store = PgStore::connect_settings(&url, &settings).await.unwrap();
    let counter = store_postgres::PgRateLimitCounter::connect(&url, &settings).unwrap();
    // The main pool's only connection is taken.
    let _main = store.pool().acquire().await.unwrap();
    assert!(store.pool().try_acquire().is_none());
    assert_eq!(counter.hit("pat:x", 60).await.unwrap(), 1);
    assert_eq!(counter.hit("pat:x", 60).await.unwrap(), 2);
    let _held = counter.pool().acquire().await.unwrap();
    let started = Instant::now();
    let e = counter.hit("pat:x", 60).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        e.unavailable_kind(),
        Some(domain::ports::UnavailableKind::PoolTimeout),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
}
