//! Atomicity of booking writes: the booking, its outbox message and its idempotent response
//! commit together or not at all — at the port level (commit vs. drop) and through the domain
//! services with a fault injected after the booking insert; reschedules move a booking in one
//! commit.

use crate::bookings::assert_same_booking;
use crate::faults::{Fault, FaultyStore};
use crate::fixtures::{LEASE, World, day, idempotency_key, mins, new_booking, reserved};
use domain::booking::{Booking, BookingStatus};
use domain::booking_service::{CreateBookingError, Idempotent, Reschedule, RescheduleBookingError};
use domain::ports::*;
use std::sync::Arc;

fn respond(b: &Booking, _host: Option<&domain::organization::User>) -> ReplayRecord {
    ReplayRecord(format!(r#"{{"uid":"{}","version":{}}}"#, b.uid, b.version))
}

/// At the port level: a transaction that inserts, enqueues and completes its key leaves nothing
/// when dropped, and everything when committed.
pub async fn booking_tx_commits_all_or_nothing(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let key = idempotency_key(t.org.id, "pat:1", "k");
    let now = w.now();
    let key = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());

    let booking = w.booking(&et, t.owner.id, day(1));
    let msg = w.outbox_message(t.org.id, "booking.created");
    let mut tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.insert_booking(&booking, false).await.unwrap();
    tx.enqueue(&msg).await.unwrap();
    tx.complete_idempotency(&key, &respond(&booking, None))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        w.store.get_booking(t.org.id, booking.uid).await.unwrap(),
        None
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![]);
    assert_eq!(
        w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
        Reservation::InProgress
    );

    let mut tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.insert_booking(&booking, false).await.unwrap();
    tx.enqueue(&msg).await.unwrap();
    tx.complete_idempotency(&key, &respond(&booking, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_same_booking(
        w.store.get_booking(t.org.id, booking.uid).await.unwrap(),
        &booking,
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg]);
    assert_eq!(
        w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
        Reservation::Replay(respond(&booking, None))
    );
}

/// `BookingService::create_booking` over a store whose transaction fails after the booking insert (at the
/// outbox write, or at the idempotency write) leaves no booking, no outbox message and an
/// uncompleted key; the slot stays bookable.
pub async fn failed_create_leaves_nothing_behind(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let start = day(1) + mins(600);
    for (i, fault) in [Fault::Enqueue, Fault::CompleteIdempotency]
        .into_iter()
        .enumerate()
    {
        let faulty = Arc::new(FaultyStore {
            inner: w.store.clone(),
            fault: fault.clone(),
        });
        let deps = w.deps_over(faulty);
        let key = idempotency_key(t.org.id, "pat:1", &format!("k{i}"));
        let now = w.now();
        let key = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());
        let idem = Idempotent {
            key: &key,
            respond: &respond,
        };
        let err = deps
            .create_booking(&et, new_booking(start, "a@example.com"), Some(idem))
            .await
            .unwrap_err();
        match &err {
            CreateBookingError::Unknown(e) if e.to_string().contains("injected fault") => {}
            other => panic!("{fault:?}: the fault was not reached: {other:?}"),
        }
        assert_eq!(
            w.every_booking(t.org.id).await,
            vec![],
            "{fault:?}: booking left behind"
        );
        assert_eq!(
            w.store.pending(t.org.id).await.unwrap(),
            vec![],
            "{fault:?}: outbox"
        );
        assert_eq!(
            w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
            Reservation::InProgress,
            "{fault:?}: the key must not be completed"
        );
    }
    let booked = w
        .deps()
        .create_booking(&et, new_booking(start, "a@example.com"), None)
        .await
        .unwrap();
    assert_eq!(w.every_booking(t.org.id).await.len(), 1);
    assert_eq!(w.store.pending(t.org.id).await.unwrap().len(), 1);
    assert_same_booking(
        w.store.get_booking(t.org.id, booked.uid).await.unwrap(),
        &booked,
    );
}

/// A reschedule marks the old booking `rescheduled` (version + 1) and creates the new one
/// (`rescheduled_from_uid`, generation + 1) in one commit; a fault after both writes leaves the
/// old booking untouched and no new one.
pub async fn reschedule_is_atomic(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let deps = w.deps();
    let start = day(1) + mins(600);
    let original = deps
        .create_booking(&et, new_booking(start, "a@example.com"), None)
        .await
        .unwrap();
    w.clock.advance(mins(5));

    let moved = deps
        .reschedule_booking(
            t.org.id,
            original.uid,
            Reschedule::to(start + mins(60)),
            None,
        )
        .await
        .unwrap()
        .booking;
    let old = w
        .store
        .get_booking(t.org.id, original.uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, BookingStatus::Rescheduled);
    assert_eq!(old.version, original.version + 1);
    assert_eq!(old.rescheduled_at, Some(w.now()));
    assert_same_booking(
        w.store.get_booking(t.org.id, moved.uid).await.unwrap(),
        &moved,
    );
    assert_eq!(moved.rescheduled_from_uid, Some(original.uid));
    assert_eq!(
        moved.reschedule_generation,
        original.reschedule_generation + 1
    );
    assert_eq!((moved.version, moved.status), (1, BookingStatus::Confirmed));
    let events: Vec<String> = w
        .store
        .pending(t.org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.event)
        .collect();
    assert_eq!(events, ["booking.created", "booking.rescheduled"]);

    // The old slot is free again: the move released it in the same commit.
    deps.create_booking(&et, new_booking(start, "b@example.com"), None)
        .await
        .unwrap();

    let faulty = w.deps_over(Arc::new(FaultyStore {
        inner: w.store.clone(),
        fault: Fault::Enqueue,
    }));
    let before = w.every_booking(t.org.id).await;
    let err = faulty
        .reschedule_booking(t.org.id, moved.uid, Reschedule::to(start + mins(120)), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RescheduleBookingError::Unknown(e) if e.to_string().contains("injected fault")),
        "the fault was not reached: {err:?}"
    );
    assert_eq!(
        w.every_booking(t.org.id).await,
        before,
        "a failed move changed bookings"
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap().len(), 3);
}
