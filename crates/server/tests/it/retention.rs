//! The worker's housekeeping under a test clock: expired idempotency keys are purged oldest
//! first, at most `MAX_PURGE_BATCHES × purge_batch` per round, younger keys stay. Whether a
//! record still exists is observed through `reserve` at an instant inside its lifetime: a
//! present record answers `Mismatch` to another body, a purged one is `Reserved` afresh.

use crate::support::{TempDir, pepper};
use domain::ports::{IdempotencyKey, ReplayRecord, Reservation, ReservedKey};
use jiff::{SignedDuration, Timestamp};
use server::admin::{self, AdminContext};
use server::wiring::{self, UuidV7};
use server::worker::{MAX_PURGE_BATCHES, WorkerSettings, housekeeping};
use std::sync::Arc;
use testkit::TestClock;

/// The in-progress lease of the server's defaults (irrelevant here: every record is done).
const LEASE: SignedDuration = SignedDuration::from_secs(37);

fn reserved(key: &IdempotencyKey, outcome: Reservation) -> ReservedKey {
    ReservedKey {
        key: key.clone(),
        nonce: outcome.nonce().expect("reserved"),
    }
}

fn key(org: domain::OrganizationId, name: &str) -> IdempotencyKey {
    IdempotencyKey {
        organization_id: org,
        owner: "pat:test".into(),
        key: name.into(),
    }
}

#[tokio::test]
async fn housekeeping_purges_expired_idempotency_keys_in_bounded_batches() {
    let dir = TempDir::new();
    let opened = wiring::open_store(&dir.sqlite_url()).await.unwrap();
    let store = opened.storage.clone();
    let t0: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let clock = TestClock::new(t0);
    let ctx = AdminContext {
        store: store.clone(),
        clock: Arc::new(clock.clone()),
        ids: Arc::new(UuidV7),
        pepper: pepper(),
    };
    let org = admin::create_org(&ctx, "Retention").await.unwrap();
    let batch = 2u32;
    let round = usize::try_from(MAX_PURGE_BATCHES * batch).unwrap();
    let done = ReplayRecord("{}".into());
    // One more expired key than a round may purge, then one younger than the cut-off.
    let old: Vec<IdempotencyKey> = (0..=round)
        .map(|i| key(org.id, &format!("old-{i}")))
        .collect();
    for (i, k) in old.iter().enumerate() {
        let at = t0 + SignedDuration::from_millis(i64::try_from(i).unwrap());
        let k = reserved(k, store.reserve(k, "fp", at, LEASE).await.unwrap());
        store.complete(&k, &done).await.unwrap();
    }
    let young = key(org.id, "young");
    let young_at = t0 + SignedDuration::from_hours(2);
    let young_r = reserved(
        &young,
        store.reserve(&young, "fp", young_at, LEASE).await.unwrap(),
    );
    store.complete(&young_r, &done).await.unwrap();

    let service = wiring::webhook_service(
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(UuidV7),
        &pepper(),
        webhooks::GuardPolicy::default(),
    )
    .unwrap();
    let settings = WorkerSettings {
        concurrency: 1,
        poll: std::time::Duration::from_secs(1),
        retention: SignedDuration::from_hours(24 * 30),
        purge_batch: batch,
        notifications: true,
    };
    let present = |k: IdempotencyKey, at: Timestamp| {
        let store = store.clone();
        async move {
            // Inside the record's lifetime: a present record refuses another body.
            match store.reserve(&k, "probe", at, LEASE).await.unwrap() {
                Reservation::Mismatch => true,
                Reservation::Reserved(nonce) => {
                    store.release(&ReservedKey { key: k, nonce }).await.unwrap();
                    false
                }
                other => panic!("{other:?}"),
            }
        }
    };

    // 23 h after the keys were taken nothing has expired yet.
    clock.set(t0 + SignedDuration::from_hours(23));
    housekeeping(&service, store.as_ref(), &settings).await;
    assert!(present(old[0].clone(), t0 + SignedDuration::from_secs(1)).await);

    // 25 h: the cut-off is t0 + 1 h. One round purges exactly `round` keys, oldest first.
    clock.set(t0 + SignedDuration::from_hours(25));
    housekeeping(&service, store.as_ref(), &settings).await;
    let probe_at = t0 + SignedDuration::from_secs(1);
    for k in &old[..round] {
        assert!(!present(k.clone(), probe_at).await, "{} purged", k.key);
    }
    let last = old[round].clone();
    assert!(
        present(last.clone(), probe_at).await,
        "bounded: the newest expired key is left"
    );
    assert!(
        present(young.clone(), young_at + SignedDuration::from_secs(1)).await,
        "younger than the cut-off: kept"
    );
    // The next round takes the rest.
    housekeeping(&service, store.as_ref(), &settings).await;
    assert!(!present(last, probe_at).await);
    assert!(present(young, young_at + SignedDuration::from_secs(1)).await);
}
