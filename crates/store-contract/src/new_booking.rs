//! [`BookingTx::commit_new_booking`], the one-unit write of a new booking that
//! `BookingService::create` uses: it commits the booking, its outbox message and its replay
//! record together, refuses an overlap like `insert_booking`, and leaves nothing when any part
//! fails.

use crate::bookings::assert_same_booking;
use crate::fixtures::{LEASE, World, day, idempotency_key, mins, reserved};
use domain::booking::Booking;
use domain::ports::*;
use std::sync::Arc;

fn respond(b: &Booking) -> ReplayRecord {
    ReplayRecord(format!(r#"{{"uid":"{}"}}"#, b.uid))
}

/// Committed as one unit: the booking is stored, its message is pending and the key replays.
pub async fn new_booking_unit_writes_booking_outbox_and_replay(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let key = idempotency_key(t.org.id, "pat:1", "k");
    let now = w.now();
    let key = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());
    let booking = w.booking(&et, t.owner.id, day(1));
    let msg = w.outbox_message(t.org.id, "booking.created");
    let record = respond(&booking);
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &booking,
        shares_seats: false,
        message: &msg,
        replay: Some((&key, &record)),
    })
    .await
    .unwrap();
    assert_same_booking(
        w.store.get_booking(t.org.id, booking.uid).await.unwrap(),
        &booking,
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg.clone()]);
    assert_eq!(
        w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
        Reservation::Replay(record)
    );

    // Without a replay record: booking and message only.
    let second = w.booking(&et, t.owner.id, day(2));
    let msg2 = w.outbox_message(t.org.id, "booking.created");
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &second,
        shares_seats: false,
        message: &msg2,
        replay: None,
    })
    .await
    .unwrap();
    assert_same_booking(
        w.store.get_booking(t.org.id, second.uid).await.unwrap(),
        &second,
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap().len(), 2);
}

/// An overlapping new booking is `SlotUnavailable` and writes nothing: no booking, no message,
/// the key stays reserved (retryable after release), and the host's time stays with the first.
pub async fn new_booking_unit_refuses_overlap_and_writes_nothing(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let other = w.create_individual(&t, "other").await;
    let first = w.booking(&et, t.owner.id, day(1));
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    let first_msg = w.outbox_message(t.org.id, "booking.created");
    tx.commit_new_booking(NewBookingWrite {
        booking: &first,
        shares_seats: false,
        message: &first_msg,
        replay: None,
    })
    .await
    .unwrap();

    let key = idempotency_key(t.org.id, "pat:1", "k2");
    let now = w.now();
    let key = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());
    // Same host, another event type, overlapping by 15 minutes.
    let clash = w.booking(&other, t.owner.id, day(1) + mins(15));
    let msg = w.outbox_message(t.org.id, "booking.created");
    let record = respond(&clash);
    let tx = w.store.begin(t.org.id, other.id).await.unwrap();
    let err = tx
        .commit_new_booking(NewBookingWrite {
            booking: &clash,
            shares_seats: false,
            message: &msg,
            replay: Some((&key, &record)),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, BookingWriteError::SlotUnavailable),
        "expected SlotUnavailable, got {err:?}"
    );
    assert_eq!(
        w.store.get_booking(t.org.id, clash.uid).await.unwrap(),
        None
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![first_msg]);
    assert_eq!(
        w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
        Reservation::InProgress
    );
}

/// A unit whose outbox write fails (its message id is already taken) leaves no booking and no
/// replay record, and the slot stays bookable.
pub async fn new_booking_unit_failure_leaves_nothing(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let taken = w.outbox_message(t.org.id, "booking.created");
    w.store.enqueue(&taken).await.unwrap();
    let key = idempotency_key(t.org.id, "pat:1", "k3");
    let now = w.now();
    let key = reserved(&key, w.store.reserve(&key, "fp", now, LEASE).await.unwrap());
    let booking = w.booking(&et, t.owner.id, day(3));
    let record = respond(&booking);
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    let result = tx
        .commit_new_booking(NewBookingWrite {
            booking: &booking,
            shares_seats: false,
            message: &taken,
            replay: Some((&key, &record)),
        })
        .await;
    assert!(result.is_err(), "a duplicate outbox id must fail the unit");
    assert_eq!(
        w.store.get_booking(t.org.id, booking.uid).await.unwrap(),
        None
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![taken]);
    assert_eq!(
        w.store.reserve(&key, "fp", now, LEASE).await.unwrap(),
        Reservation::InProgress
    );
    // The slot is still free.
    let msg = w.outbox_message(t.org.id, "booking.created");
    let tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.commit_new_booking(NewBookingWrite {
        booking: &booking,
        shares_seats: false,
        message: &msg,
        replay: None,
    })
    .await
    .unwrap();
}
