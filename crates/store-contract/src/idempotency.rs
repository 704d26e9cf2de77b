//! Idempotency records ([`IdempotencyStore`]): reserve / in progress / mismatch / replay,
//! release, the 24-hour memory, takeover of abandoned reservations after the caller's lease,
//! the reservation nonce (a stale owner can neither complete nor release, in or outside a
//! booking transaction), scoping by (organization, owner, key), and atomic reservation under
//! concurrency.

use crate::fixtures::{LEASE, World, day, idempotency_key, millis, reserved};
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

    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-a", now, LEASE).await.unwrap(),
    );
    assert_eq!(
        w.store.reserve(&key, "fp-a", now, LEASE).await.unwrap(),
        Reservation::InProgress
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", now, LEASE).await.unwrap(),
        Reservation::Mismatch
    );

    let stored = response(r#"{"data":{"uid":"abc","note":"ünïcödé"}}"#);
    w.store.complete(&key, &stored).await.unwrap();
    let later = now + SignedDuration::from_hours(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", later, LEASE).await.unwrap(),
        Reservation::Replay(stored.clone())
    );
    assert_eq!(
        w.store.reserve(&key, "fp-a", later, LEASE).await.unwrap(),
        Reservation::Replay(stored),
        "replay does not consume the record"
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", later, LEASE).await.unwrap(),
        Reservation::Mismatch
    );
}

/// Releasing an unfinished reservation lets the key be reserved again, with any body.
pub async fn released_keys_can_be_reserved_again(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-a", now, LEASE).await.unwrap(),
    );
    w.store.release(&key).await.unwrap();
    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-b", now, LEASE).await.unwrap(),
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", now, LEASE).await.unwrap(),
        Reservation::InProgress
    );
    // Releasing a key nobody holds is harmless.
    w.store
        .release(&ReservedKey {
            key: idempotency_key(org.id, "pat:1", "never"),
            nonce: ReservationNonce(uuid::Uuid::new_v4()),
        })
        .await
        .unwrap();
}

/// A completed record is remembered for 24 hours from its reservation, then counts as absent.
pub async fn completed_keys_expire_after_24_hours(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();

    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-a", now, LEASE).await.unwrap(),
    );
    let stored = response("{}");
    w.store.complete(&key, &stored).await.unwrap();
    let almost = now + IDEMPOTENCY_TTL - millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", almost, LEASE).await.unwrap(),
        Reservation::Replay(stored)
    );
    let expired = now + IDEMPOTENCY_TTL + millis(1);
    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-b", expired, LEASE).await.unwrap(),
    );
    assert_eq!(
        w.store.reserve(&key, "fp-b", expired, LEASE).await.unwrap(),
        Reservation::InProgress
    );
}

/// An unfinished reservation older than the caller's in-progress lease may be taken over; a
/// younger one may not. The lease is the caller's (derived from the server's configuration),
/// never a constant of the store.
pub async fn abandoned_reservations_can_be_taken_over(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let now = w.now();
    // A short lease, as a server with a 1 s request timeout would pass.
    let short = SignedDuration::from_millis(1500);
    let quick = idempotency_key(org.id, "pat:1", "quick");
    reserved(
        &quick,
        w.store.reserve(&quick, "fp", now, short).await.unwrap(),
    );
    assert_eq!(
        w.store
            .reserve(&quick, "fp", now + short, short)
            .await
            .unwrap(),
        Reservation::InProgress,
        "at exactly the lease it is still held"
    );
    reserved(
        &quick,
        w.store
            .reserve(&quick, "fp", now + short + millis(1), short)
            .await
            .unwrap(),
    );

    let key = idempotency_key(org.id, "pat:1", "key-1");

    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-a", now, LEASE).await.unwrap(),
    );
    let young = now + LEASE - millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp-a", young, LEASE).await.unwrap(),
        Reservation::InProgress
    );
    let old = now + LEASE + millis(1);
    let key = reserved(
        &key,
        w.store.reserve(&key, "fp-a", old, LEASE).await.unwrap(),
    );
    // The takeover is a fresh reservation: it is in progress again from `old`.
    assert_eq!(
        w.store
            .reserve(&key, "fp-a", old + millis(1), LEASE)
            .await
            .unwrap(),
        Reservation::InProgress
    );
    let stored = response("taken over");
    w.store.complete(&key, &stored).await.unwrap();
    assert_eq!(
        w.store
            .reserve(&key, "fp-a", old + millis(2), LEASE)
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

    let mine = reserved(
        &mine,
        w.store.reserve(&mine, "fp-a", now, LEASE).await.unwrap(),
    );
    let stored = response("mine");
    w.store.complete(&mine, &stored).await.unwrap();
    let other_owner = reserved(
        &other_owner,
        w.store
            .reserve(&other_owner, "fp-b", now, LEASE)
            .await
            .unwrap(),
    );
    let other_org = reserved(
        &other_org,
        w.store
            .reserve(&other_org, "fp-c", now, LEASE)
            .await
            .unwrap(),
    );

    // Releasing or completing the others leaves mine alone.
    w.store.release(&other_owner).await.unwrap();
    w.store
        .complete(&other_org, &response("theirs"))
        .await
        .unwrap();
    assert_eq!(
        w.store.reserve(&mine, "fp-a", now, LEASE).await.unwrap(),
        Reservation::Replay(stored)
    );
    assert_eq!(
        w.store
            .reserve(&other_org, "fp-c", now, LEASE)
            .await
            .unwrap(),
        Reservation::Replay(response("theirs"))
    );
    // Keys are case-sensitive.
    let upper = idempotency_key(a.id, "pat:1", "SAME");
    reserved(
        &upper,
        w.store.reserve(&upper, "fp-a", now, LEASE).await.unwrap(),
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
                    store.reserve(&key, "fp", now, LEASE).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in futures::future::join_all(tasks).await {
            outcomes.push(t.unwrap());
        }
        let reserved = outcomes.iter().filter(|o| o.nonce().is_some()).count();
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
        let key = reserved(&key, w.store.reserve(&key, "fp", at, LEASE).await.unwrap());
        if i != 1 {
            w.store.complete(&key, &response("old")).await.unwrap();
        }
        old.push(key);
    }
    let young_at = t0 + SignedDuration::from_hours(2);
    let young = idempotency_key(org.id, "pat:1", "young");
    let young = reserved(
        &young,
        w.store
            .reserve(&young, "fp", young_at, LEASE)
            .await
            .unwrap(),
    );
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
        w.store.reserve(&old[2], "fp", check, LEASE).await.unwrap(),
        Reservation::Replay(response("old"))
    );
    assert_eq!(w.store.purge_expired(cutoff, 2).await.unwrap(), 1);
    assert_eq!(w.store.purge_expired(cutoff, 2).await.unwrap(), 0);
    for key in &old {
        let outcome = w
            .store
            .reserve(key, "other-fp", check, LEASE)
            .await
            .unwrap();
        assert!(
            outcome.nonce().is_some(),
            "purged: the key is free again, whatever the body: {outcome:?}"
        );
    }
    assert_eq!(
        w.store.reserve(&young, "fp", check, LEASE).await.unwrap(),
        Reservation::Replay(response("young")),
        "records after the cut-off stay"
    );
}

/// A request whose lease expired and whose key was taken over: its late release and its late
/// completion (outside a transaction) do nothing to the new owner's reservation, nor does a
/// forged nonce; the new owner's completion wins and replays.
pub async fn stale_nonces_neither_complete_nor_release(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let key = idempotency_key(org.id, "pat:1", "key-1");
    let now = w.now();
    let first = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());

    // A nonce that was never issued touches nothing.
    let forged = ReservedKey {
        key: key.clone(),
        nonce: ReservationNonce(uuid::Uuid::new_v4()),
    };
    w.store.release(&forged).await.unwrap();
    let err = w.store.complete(&forged, &response("forged")).await;
    assert!(
        matches!(&err, Err(StoreError::Unknown(e)) if reservation_lost(e)),
        "a forged completion is refused as reservation_lost: {err:?}"
    );
    assert_eq!(
        w.store
            .reserve(&key, "fp", now + millis(1), LEASE)
            .await
            .unwrap(),
        Reservation::InProgress,
        "still the first request's"
    );

    // The first request's lease ends; another takes the key over.
    let takeover_at = now + LEASE + millis(1);
    let second = reserved(
        &key,
        w.store
            .reserve(&key, "fp", takeover_at, LEASE)
            .await
            .unwrap(),
    );
    assert_ne!(first.nonce, second.nonce, "a takeover gets a new nonce");

    // The first request comes back late: its release and its completion do nothing.
    w.store.release(&first).await.unwrap();
    let err = w.store.complete(&first, &response("late")).await;
    assert!(
        matches!(&err, Err(StoreError::Unknown(e)) if reservation_lost(e)),
        "a late completion is refused as reservation_lost: {err:?}"
    );
    let after = takeover_at + millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp", after, LEASE).await.unwrap(),
        Reservation::InProgress,
        "the late release did not delete the new owner's reservation"
    );

    // The new owner completes: its record replays; later stale calls leave it alone.
    w.store
        .complete(&second, &response("second"))
        .await
        .unwrap();
    w.store.release(&first).await.unwrap();
    w.store.release(&second).await.unwrap();
    assert!(w.store.complete(&first, &response("late")).await.is_err());
    assert_eq!(
        w.store.reserve(&key, "fp", after, LEASE).await.unwrap(),
        Reservation::Replay(response("second"))
    );
    // Completing twice is refused too: a record, once stored, is final.
    assert!(w.store.complete(&second, &response("again")).await.is_err());
    assert_eq!(
        w.store.reserve(&key, "fp", after, LEASE).await.unwrap(),
        Reservation::Replay(response("second"))
    );
}

fn lost(e: &BookingWriteError) -> bool {
    matches!(e, BookingWriteError::Unknown(inner) if reservation_lost(inner))
}

/// Inside the booking unit of work: a late request whose key was taken over cannot complete
/// it (`commit_new_booking` and `complete_idempotency` fail with `reservation_lost`) and commits
/// nothing — no booking, no outbox message; the new owner's booking and record commit and win.
pub async fn late_booking_completion_commits_nothing(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let key = idempotency_key(t.org.id, "pat:1", "k");
    let now = w.now();
    let first = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());
    let takeover_at = now + LEASE + millis(1);
    let second = reserved(
        &key,
        w.store
            .reserve(&key, "fp", takeover_at, LEASE)
            .await
            .unwrap(),
    );

    // The late first request: the one-unit create.
    let late = w.booking(&et, t.owner.id, day(1));
    let late_msg = w.outbox_message(t.org.id, "booking.created");
    let late_record = response("first");
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    let err = tx
        .commit_new_booking(NewBookingWrite {
            booking: &late,
            shares_seats: false,
            message: &late_msg,
            replay: Some((&first, &late_record)),
        })
        .await
        .unwrap_err();
    assert!(lost(&err), "expected reservation_lost, got {err:?}");
    // The step-by-step write (cancel, reschedule, update): the completion fails.
    let mut tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.insert_booking(&late, false).await.unwrap();
    tx.enqueue(&late_msg).await.unwrap();
    let err = tx
        .complete_idempotency(&first, &late_record)
        .await
        .map_err(BookingWriteError::from);
    match err {
        Err(e) => {
            drop(tx);
            assert!(lost(&e), "expected reservation_lost, got {e:?}");
        }
        // A store may check at commit instead; then the commit must fail.
        Ok(()) => {
            let committed = tx.commit().await;
            assert!(
                matches!(&committed, Err(StoreError::Unknown(e)) if reservation_lost(e)),
                "a stale completion must fail the transaction: {committed:?}"
            );
        }
    }
    assert_eq!(w.store.get_booking(t.org.id, late.uid).await.unwrap(), None);
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![]);
    let after = takeover_at + millis(1);
    assert_eq!(
        w.store.reserve(&key, "fp", after, LEASE).await.unwrap(),
        Reservation::InProgress,
        "the new owner still holds the key"
    );

    // The new owner's unit commits and its record replays.
    let mine = w.booking(&et, t.owner.id, day(1));
    let msg = w.outbox_message(t.org.id, "booking.created");
    let record = response("second");
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &mine,
        shares_seats: false,
        message: &msg,
        replay: Some((&second, &record)),
    })
    .await
    .unwrap();
    assert!(
        w.store
            .get_booking(t.org.id, mine.uid)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg]);

    // Still later, the first request's completion cannot replace the winner's record.
    let other = w.booking(&et, t.owner.id, day(2));
    let other_msg = w.outbox_message(t.org.id, "booking.created");
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    let err = tx
        .commit_new_booking(NewBookingWrite {
            booking: &other,
            shares_seats: false,
            message: &other_msg,
            replay: Some((&first, &late_record)),
        })
        .await
        .unwrap_err();
    assert!(lost(&err), "expected reservation_lost, got {err:?}");
    assert_eq!(
        w.store.get_booking(t.org.id, other.uid).await.unwrap(),
        None
    );
    assert_eq!(
        w.store.reserve(&key, "fp", after, LEASE).await.unwrap(),
        Reservation::Replay(record)
    );
}
