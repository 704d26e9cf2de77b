//! Idempotency records ([`IdempotencyStore`]): reserve / in progress / mismatch / replay,
//! release, the 24-hour memory, takeover of abandoned reservations, scoping by
//! (organization, owner, key), and atomic reservation under concurrency.

use crate::fixtures::{World, idempotency_key, millis};
use domain::ports::*;
use jiff::SignedDuration;
use std::sync::Arc;
use tokio::sync::Barrier;

fn response(body: &str) -> ReplayRecord {
    ReplayRecord(body.to_owned())
}

/// Reserve → in progress for the same body, mismatch for another; complete → replay of the
/// stored replay record, byte for byte (for the same fingerprint; another is still a mismatch).
pub async fn reserve_complete_replay(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    assert_eq!(
        w.store.reserve(&key, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        w.store.reserve(&key, "fp-a", now).await.unwrap(),
        Reservation::InProgress
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", now).await.unwrap(),
        Reservation::Mismatch
    );

    let stored = response(r#"{"data":{"uid":"abc","note":"ünïcödé"}}"#);
    w.store.complete(&key, &stored).await.unwrap();
    let later = now + SignedDuration::from_hours(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", later).await.unwrap(),
        Reservation::Replay(stored.clone())
    );
    assert_eq!(
        w.store.reserve(&key, "fp-a", later).await.unwrap(),
        Reservation::Replay(stored),
        "replay does not consume the record"
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", later).await.unwrap(),
        Reservation::Mismatch
    );
}

/// Releasing an unfinished reservation lets the key be reserved again, with any body.
pub async fn released_keys_can_be_reserved_again(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    assert_eq!(
        w.store.reserve(&key, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
    w.store.release(&key).await.unwrap();
    assert_eq!(
        w.store.reserve(&key, "fp-b", now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", now).await.unwrap(),
        Reservation::InProgress
    );
    // Releasing a key nobody holds is harmless.
    w.store
        .release(&idempotency_key(org.id, "pat:1", "never"))
        .await
        .unwrap();
}

/// A completed record is remembered for 24 hours from its reservation, then counts as absent.
pub async fn completed_keys_expire_after_24_hours(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    assert_eq!(
        w.store.reserve(&key, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
    let stored = response("{}");
    w.store.complete(&key, &stored).await.unwrap();
    let almost = now + IDEMPOTENCY_TTL - millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", almost).await.unwrap(),
        Reservation::Replay(stored)
    );
    let expired = now + IDEMPOTENCY_TTL + millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-b", expired).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", expired).await.unwrap(),
        Reservation::InProgress
    );
}

/// An unfinished reservation older than the in-progress lease may be taken over; a younger one
/// may not.
pub async fn abandoned_reservations_can_be_taken_over(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    assert_eq!(
        w.store.reserve(&key, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
    let young = now + IDEMPOTENCY_IN_PROGRESS_LEASE - millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", young).await.unwrap(),
        Reservation::InProgress
    );
    let old = now + IDEMPOTENCY_IN_PROGRESS_LEASE + millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", old).await.unwrap(),
        Reservation::Reserved
    );
    // The takeover is a fresh reservation: it is in progress again from `old`.
    assert_eq!(
        w.store
            .reserve(&key, "fp-a", old + millis(1))
            .await
            .unwrap(),
        Reservation::InProgress
    );
    let stored = response("taken over");
    w.store.complete(&key, &stored).await.unwrap();
    assert_eq!(
        w.store
            .reserve(&key, "fp-a", old + millis(2))
            .await
            .unwrap(),
        Reservation::Replay(stored)
    );
}

/// The same key string under another owner or another organization is another key.
pub async fn keys_are_scoped_by_organization_and_owner(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("a").await;
    let b = w.create_organization("b").await;
    let now = w.now();
    let mine = idempotency_key(a.id, "pat:1", "same");
    let other_owner = idempotency_key(a.id, "oauth:client:user", "same");
    let other_org = idempotency_key(b.id, "pat:1", "same");

    assert_eq!(
        w.store.reserve(&mine, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
    let stored = response("mine");
    w.store.complete(&mine, &stored).await.unwrap();
    assert_eq!(
        w.store.reserve(&other_owner, "fp-b", now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        w.store.reserve(&other_org, "fp-c", now).await.unwrap(),
        Reservation::Reserved
    );

    // Releasing or completing the others leaves mine alone.
    w.store.release(&other_owner).await.unwrap();
    w.store
        .complete(&other_org, &response("theirs"))
        .await
        .unwrap();
    assert_eq!(
        w.store.reserve(&mine, "fp-a", now).await.unwrap(),
        Reservation::Replay(stored)
    );
    assert_eq!(
        w.store.reserve(&other_org, "fp-c", now).await.unwrap(),
        Reservation::Replay(response("theirs"))
    );
    // Keys are case-sensitive.
    let upper = idempotency_key(a.id, "pat:1", "SAME");
    assert_eq!(
        w.store.reserve(&upper, "fp-a", now).await.unwrap(),
        Reservation::Reserved
    );
}

/// Many concurrent reservations of one fresh key: exactly one wins.
pub async fn concurrent_reservations_have_one_winner(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let now = w.now();
    for round in 0..5 {
        let key = idempotency_key(org.id, "pat:1", &format!("race-{round}"));
        let barrier = Arc::new(Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (store, key, barrier) = (w.store.clone(), key.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.reserve(&key, "fp", now).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in futures::future::join_all(tasks).await {
            outcomes.push(t.unwrap());
        }
        let reserved = outcomes
            .iter()
            .filter(|o| **o == Reservation::Reserved)
            .count();
        let in_progress = outcomes
            .iter()
            .filter(|o| **o == Reservation::InProgress)
            .count();
        assert_eq!(
            (reserved, in_progress),
            (1, 15),
            "round {round}: {outcomes:?}"
        );
    }
}

/// Retention: `purge_expired` deletes records taken before the cut-off (done or not), oldest
/// first and at most `max` per call; younger records stay and still replay.
pub async fn expired_keys_are_purged_in_bounded_batches(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let t0 = w.now();
    let mut old = Vec::new();
    for i in 0..3 {
        let key = idempotency_key(org.id, "pat:1", &format!("old-{i}"));
        let at = t0 + millis(i);
        assert_eq!(
            w.store.reserve(&key, "fp", at).await.unwrap(),
            Reservation::Reserved
        );
        if i != 1 {
            w.store.complete(&key, &response("old")).await.unwrap();
        }
        old.push(key);
    }
    let young_at = t0 + SignedDuration::from_hours(2);
    let young = idempotency_key(org.id, "pat:1", "young");
    w.store.reserve(&young, "fp", young_at).await.unwrap();
    w.store.complete(&young, &response("young")).await.unwrap();

    let cutoff = t0 + SignedDuration::from_hours(1);
    assert_eq!(
        w.store.purge_expired(t0, 10).await.unwrap(),
        0,
        "nothing before t0"
    );
    assert_eq!(
        w.store.purge_expired(cutoff, 2).await.unwrap(),
        2,
        "bounded"
    );
    // The oldest two went: reserving them again is a fresh reservation, the third still
    // replays (as of a time inside its 24 hours).
    let check = t0 + SignedDuration::from_hours(3);
    assert_eq!(
        w.store.reserve(&old[2], "fp", check).await.unwrap(),
        Reservation::Replay(response("old"))
    );
    assert_eq!(w.store.purge_expired(cutoff, 2).await.unwrap(), 1);
    assert_eq!(w.store.purge_expired(cutoff, 2).await.unwrap(), 0);
    for key in &old {
        assert_eq!(
            w.store.reserve(key, "other-fp", check).await.unwrap(),
            Reservation::Reserved,
            "purged: the key is free again, whatever the body"
        );
    }
    assert_eq!(
        w.store.reserve(&young, "fp", check).await.unwrap(),
        Reservation::Replay(response("young")),
        "records after the cut-off stay"
    );
}
