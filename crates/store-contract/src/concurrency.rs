//! No double booking, under concurrency: many writers on one slot (exactly one wins), a random
//! storm over several event types of the same hosts (no two time-holding bookings of a host
//! overlap), group seats and round robin filled exactly, plus the port-level overlap guard that
//! holds independently of the slot engine.

use crate::faults::{Fault, FaultyStore, Stall};
use crate::fixtures::{World, day, mins, new_booking};
use domain::booking::{Booking, BookingStatus, RescheduleRuleError};
use domain::booking_service::{
    BookingService, Cancellation, CreateBookingError, PatchDraft, Reschedule,
    RescheduleBookingError, UpdateBookingError,
};
use domain::event_type::{EventType, SchedulingType};
use domain::ids::EventTypeId;
use domain::ports::*;
use futures::future::BoxFuture;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Barrier;

/// A store-specific diagnostic: how many pairs of time-holding bookings of one host overlap,
/// counted by the database itself (an SQL self-join).
pub type OverlapCount = Box<dyn Fn() -> BoxFuture<'static, anyhow::Result<i64>> + Send + Sync>;

/// Outcome counts of a batch of booking attempts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    ok: usize,
    unavailable: usize,
}

/// Runs `n` concurrent creates of `start`, released together by a barrier.
async fn race(
    deps: &BookingService,
    et: &EventType,
    start: Timestamp,
    n: usize,
) -> (Tally, Vec<Booking>) {
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (deps, et, barrier) = (deps.clone(), et.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let req = new_booking(start, &format!("racer{i}@example.com"));
                deps.create_booking(&et, req, None).await
            })
        })
        .collect();
    let mut tally = Tally::default();
    let mut won = Vec::new();
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(b) => {
                tally.ok += 1;
                won.push(b);
            }
            Err(CreateBookingError::SlotUnavailable { .. }) => tally.unavailable += 1,
            Err(e) => panic!("unexpected booking error: {e:?}"),
        }
    }
    (tally, won)
}

/// Asserts that no two time-holding bookings of one host overlap (by their blocked intervals),
/// checking every pair. Seats of one slot (same event type and start) of the event types in
/// `seated` may share their interval.
pub fn assert_no_overlaps(bookings: &[Booking], seated: &[EventTypeId]) {
    let holding: Vec<&Booking> = bookings.iter().filter(|b| b.status.holds_time()).collect();
    for (i, x) in holding.iter().enumerate() {
        for y in &holding[i + 1..] {
            let seats = x.event_type_id == y.event_type_id
                && x.start == y.start
                && seated.contains(&x.event_type_id);
            assert!(
                x.host_user_id != y.host_user_id || seats || !x.blocked.overlaps(&y.blocked),
                "host {} is double-booked: {} {:?} and {} {:?}",
                x.host_user_id,
                x.uid,
                x.blocked,
                y.uid,
                y.blocked
            );
        }
    }
}

/// 50 concurrent bookings of one slot → exactly one wins, 49 are `SlotUnavailable`; 20 rounds,
/// each on a fresh event type and slot.
pub async fn one_slot_many_writers_exactly_one_wins(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let deps = w.deps();
    for round in 0..20 {
        let et = w.create_individual(&t, &format!("round-{round}")).await;
        let start = day(1) + mins(60 * round);
        let (tally, won) = race(&deps, &et, start, 50).await;
        assert_eq!(
            tally,
            Tally {
                ok: 1,
                unavailable: 49
            },
            "round {round}"
        );
        let stored = w.every_booking(t.org.id).await;
        assert_eq!(stored.len(), round as usize + 1);
        crate::bookings::assert_same_booking(
            w.store.get_booking(t.org.id, won[0].uid).await.unwrap(),
            &won[0],
        );
    }
}

/// A seeded storm of bookings with mixed durations and buffers over three event types per host,
/// for three hosts, in a three-hour range: afterwards no two time-holding bookings of one host
/// overlap, by Rust's check and by the store's own SQL count.
pub async fn storm_never_overlaps(store: Arc<dyn Storage>, overlap_count: Option<OverlapCount>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let mut event_types = Vec::new();
    for h in 0..3 {
        let (u, s) = w.create_host(&org, &format!("host{h}")).await;
        for (i, (duration, before, after)) in [(15, 0, 0), (30, 0, 15), (60, 15, 0)]
            .into_iter()
            .enumerate()
        {
            let mut et = w.event_type(&[(&u, &s)], SchedulingType::Individual, &format!("et{i}"));
            et.duration_minutes = duration;
            et.slot_interval_minutes = 15;
            et.buffer_before_minutes = before;
            et.buffer_after_minutes = after;
            event_types.push(w.create_event_type(et).await);
        }
    }
    let deps = w.deps();
    let first = day(2) + mins(9 * 60);
    let tasks = 12;
    let per_task = 15;
    let barrier = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (deps, ets, barrier) = (deps.clone(), event_types.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(0x5107_b00c + task as u64);
                barrier.wait().await;
                let mut tally = Tally::default();
                for i in 0..per_task {
                    let et = &ets[rng.random_range(0..ets.len())];
                    let start = first + mins(15 * rng.random_range(0..12));
                    let req = new_booking(start, &format!("t{task}-{i}@example.com"));
                    match deps.create_booking(et, req, None).await {
                        Ok(_) => tally.ok += 1,
                        Err(CreateBookingError::SlotUnavailable { .. }) => tally.unavailable += 1,
                        Err(e) => panic!("unexpected booking error: {e:?}"),
                    }
                }
                tally
            })
        })
        .collect();
    let mut ok = 0;
    for h in futures::future::join_all(handles).await {
        ok += h.unwrap().ok;
    }
    let stored = w.every_booking(org.id).await;
    assert_eq!(
        stored.len(),
        ok,
        "every accepted booking is stored, nothing else"
    );
    assert!(
        ok >= 6,
        "the storm booked almost nothing ({ok}); the slot engine refuses too much"
    );
    assert_no_overlaps(&stored, &[]);
    if let Some(count) = overlap_count {
        assert_eq!(
            count().await.unwrap(),
            0,
            "the database counts overlapping bookings"
        );
    }
}

/// Back-to-back bookings (one ends when the next starts, no buffers) are both accepted.
pub async fn adjacent_bookings_are_both_accepted(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let deps = w.deps();
    let ten = day(1) + mins(600);
    for start in [ten, ten + mins(30), ten - mins(30)] {
        deps.create_booking(&et, new_booking(start, "a@example.com"), None)
            .await
            .unwrap_or_else(|e| panic!("booking {start}: {e:?}"));
    }
    let err = deps
        .create_booking(&et, new_booking(ten, "b@example.com"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CreateBookingError::SlotUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(w.every_booking(t.org.id).await.len(), 3);
}

/// A cancelled booking frees its slot for a new booking.
pub async fn cancel_then_rebook_the_same_slot(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let deps = w.deps();
    let start = day(1) + mins(600);
    let first = deps
        .create_booking(&et, new_booking(start, "a@example.com"), None)
        .await
        .unwrap();
    let err = deps
        .create_booking(&et, new_booking(start, "b@example.com"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CreateBookingError::SlotUnavailable { .. }),
        "{err:?}"
    );
    let cancelled = deps
        .cancel_booking(t.org.id, first.uid, Cancellation::default(), None)
        .await
        .unwrap()
        .booking;
    assert_eq!(
        (cancelled.status, cancelled.version),
        (BookingStatus::Canceled, 2)
    );
    let second = deps
        .create_booking(&et, new_booking(start, "b@example.com"), None)
        .await
        .unwrap();
    let stored = w.every_booking(t.org.id).await;
    let statuses: BTreeMap<_, _> = stored.iter().map(|b| (b.uid, b.status)).collect();
    assert_eq!(
        statuses,
        [
            (first.uid, BookingStatus::Canceled),
            (second.uid, BookingStatus::Confirmed)
        ]
        .into()
    );
}

/// A group event with 3 seats: 10 concurrent bookings of one slot → exactly 3 win.
pub async fn group_seats_are_filled_exactly(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w
        .create_event_type(w.event_type(&[(&t.owner, &t.schedule)], SchedulingType::Group, "class"))
        .await;
    assert_eq!(et.capacity(), 3);
    let start = day(1) + mins(600);
    let (tally, won) = race(&w.deps(), &et, start, 10).await;
    assert_eq!(
        tally,
        Tally {
            ok: 3,
            unavailable: 7
        }
    );
    assert!(
        won.iter()
            .all(|b| b.start == start && b.host_user_id == t.owner.id)
    );
    assert_eq!(w.every_booking(t.org.id).await.len(), 3);
}

/// Round robin over two hosts: 8 concurrent bookings of one slot → exactly 2 win, one per host.
pub async fn round_robin_assigns_each_host_once(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let et = w
        .create_event_type(w.event_type(
            &[(&t.owner, &t.schedule), (&bob, &bobs)],
            SchedulingType::RoundRobin,
            "team",
        ))
        .await;
    let start = day(1) + mins(600);
    let (tally, won) = race(&w.deps(), &et, start, 8).await;
    assert_eq!(
        tally,
        Tally {
            ok: 2,
            unavailable: 6
        }
    );
    let mut hosts: Vec<_> = won.iter().map(|b| b.host_user_id).collect();
    hosts.sort();
    let mut expected = vec![t.owner.id, bob.id];
    expected.sort();
    assert_eq!(hosts, expected);
    assert_no_overlaps(&w.every_booking(t.org.id).await, &[]);
}

/// Independently of the slot engine, `insert_booking` refuses a booking whose blocked interval
/// overlaps a time-holding booking of the same host (across event types), and accepts it for
/// another host, back to back, after a cancel, or as another seat of the same group slot.
pub async fn overlapping_inserts_are_refused_per_host(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let a = w.create_individual(&t, "a").await;
    let b = w.create_individual(&t, "b").await;
    let mut buffered = w.event_type(
        &[(&t.owner, &t.schedule)],
        SchedulingType::Individual,
        "buf",
    );
    buffered.buffer_before_minutes = 10;
    buffered.buffer_after_minutes = 10;
    let buffered = w.create_event_type(buffered).await;
    let group = w
        .create_event_type(w.event_type(&[(&t.owner, &t.schedule)], SchedulingType::Group, "grp"))
        .await;
    let bobs_et = w
        .create_event_type(w.event_type(&[(&bob, &bobs)], SchedulingType::Individual, "bob"))
        .await;
    let at = |m: i64| day(1) + mins(m);
    let refused = |r: Result<(), BookingWriteError>, what: &str| match r {
        Err(BookingWriteError::SlotUnavailable) => {}
        other => panic!("{what}: expected SlotUnavailable, got {other:?}"),
    };

    let mut first = w.booking(&a, t.owner.id, at(600));
    w.insert(&first, false).await.unwrap();
    refused(
        w.insert(&w.booking(&b, t.owner.id, at(615)), false).await,
        "other event type",
    );
    refused(
        w.insert(&w.booking(&a, t.owner.id, at(600)), false).await,
        "same start",
    );
    refused(
        w.insert(&w.booking(&b, t.owner.id, at(590)), true).await,
        "shares_seats, other type",
    );
    w.insert(&w.booking(&b, t.owner.id, at(630)), false)
        .await
        .unwrap();
    w.insert(&w.booking(&bobs_et, bob.id, at(600)), false)
        .await
        .unwrap();

    // Buffers count: [12:50, 13:40) against [13:35, 14:05).
    w.insert(&w.booking(&buffered, t.owner.id, at(780)), false)
        .await
        .unwrap();
    refused(
        w.insert(&w.booking(&a, t.owner.id, at(815)), false).await,
        "into a buffer",
    );
    w.insert(&w.booking(&a, t.owner.id, at(820)), false)
        .await
        .unwrap();

    // Group seats share a slot; a different start or type does not.
    w.insert(&w.booking(&group, t.owner.id, at(900)), true)
        .await
        .unwrap();
    w.insert(&w.booking(&group, t.owner.id, at(900)), true)
        .await
        .unwrap();
    refused(
        w.insert(&w.booking(&group, t.owner.id, at(900)), false)
            .await,
        "seat without sharing",
    );
    refused(
        w.insert(&w.booking(&group, t.owner.id, at(915)), true)
            .await,
        "another group start",
    );
    refused(
        w.insert(&w.booking(&a, t.owner.id, at(900)), true).await,
        "another type at the start",
    );

    // Cancelled and rescheduled bookings hold no time.
    first.cancel(None, true, w.now()).unwrap();
    w.update(&first, 1).await.unwrap();
    let replacement = w.booking(&b, t.owner.id, at(600));
    w.insert(&replacement, false).await.unwrap();
    let mut moved = replacement.clone();
    moved.mark_rescheduled(None, w.now());
    w.update(&moved, 1).await.unwrap();
    w.insert(&w.booking(&a, t.owner.id, at(600)), false)
        .await
        .unwrap();

    assert_no_overlaps(&w.every_booking(t.org.id).await, &[group.id]);
}

/// Two transactions on different event types of one host race overlapping inserts: exactly one
/// commits, the other gets `SlotUnavailable` from `insert_booking`.
pub async fn racing_inserts_across_event_types_one_wins(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let a = w.create_individual(&t, "a").await;
    let b = w.create_individual(&t, "b").await;
    for round in 0..10 {
        let barrier = Arc::new(Barrier::new(2));
        let candidates = [
            w.booking(&a, t.owner.id, day(1) + mins(60 * round)),
            w.booking(&b, t.owner.id, day(1) + mins(60 * round + 15)),
        ];
        let tasks: Vec<_> = candidates
            .into_iter()
            .map(|booking| {
                let (store, barrier) = (w.store.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let mut tx = store
                        .begin(booking.organization_id, booking.event_type_id)
                        .await?;
                    tx.insert_booking(&booking, false).await?;
                    tx.commit().await?;
                    Ok::<_, BookingWriteError>(())
                })
            })
            .collect();
        let mut wins = 0;
        for r in futures::future::join_all(tasks).await {
            match r.unwrap() {
                Ok(()) => wins += 1,
                Err(BookingWriteError::SlotUnavailable) => {}
                Err(e) => panic!("round {round}: unexpected error {e:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    let stored = w.every_booking(t.org.id).await;
    assert_eq!(stored.len(), 10);
    assert_no_overlaps(&stored, &[]);
}

/// A cancel, patch or reschedule whose booking another write changed after it was read (each
/// is held at `begin` while the other commits) decides again on the booking as it is now:
/// a second cancel returns the canceled booking unchanged, a patch on the old version is a
/// version conflict naming the current one, a reschedule of a moved booking is refused.
pub async fn writes_on_a_changed_booking_decide_again(store: Arc<dyn Storage>) {
    let w = World::new(store.clone());
    let t = w.create_tenant("acme").await;
    let org = t.org.id;
    let et = w.create_individual(&t, "intro").await;
    let deps = w.deps();
    let start = day(1) + mins(600);
    let mut booked = Vec::new();
    for (i, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .into_iter()
        .enumerate()
    {
        let at = start + mins(60 * i as i64);
        booked.push(
            deps.create_booking(&et, new_booking(at, email), None)
                .await
                .unwrap()
                .uid,
        );
    }
    let (a, b, c) = (booked[0], booked[1], booked[2]);
    let stall = Stall::new();
    let held = w.deps_over(Arc::new(FaultyStore {
        inner: store.clone(),
        fault: Fault::Stall(stall.clone()),
    }));
    let cancel = tokio::spawn({
        let held = held.clone();
        async move {
            held.cancel_booking(org, a, Cancellation::default(), None)
                .await
        }
    });
    stall.entered().await;
    let patch = tokio::spawn({
        let held = held.clone();
        async move {
            let draft = PatchDraft {
                attendee_name: Some("Late".into()),
                ..PatchDraft::default()
            };
            held.update_booking(org, b, draft, 1, None).await
        }
    });
    stall.entered().await;
    let reschedule = tokio::spawn({
        let held = held.clone();
        async move {
            held.reschedule_booking(org, c, Reschedule::to(start + mins(300)), None)
                .await
        }
    });
    stall.entered().await;

    let first = Cancellation::new(Some("first".into())).unwrap();
    deps.cancel_booking(org, a, first, None).await.unwrap();
    deps.cancel_booking(org, b, Cancellation::default(), None)
        .await
        .unwrap();
    deps.reschedule_booking(org, c, Reschedule::to(start + mins(240)), None)
        .await
        .unwrap();
    stall.open();

    let canceled = cancel.await.unwrap().unwrap().booking;
    assert_eq!(
        (
            canceled.status,
            canceled.version,
            canceled.cancellation_reason.as_deref()
        ),
        (BookingStatus::Canceled, 2, Some("first")),
        "the second cancel answers the first one's booking"
    );
    let err = patch.await.unwrap().unwrap_err();
    assert!(
        matches!(err, UpdateBookingError::VersionConflict { current: 2 }),
        "{err:?}"
    );
    let err = reschedule.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            RescheduleBookingError::Rule(RescheduleRuleError::AlreadyRescheduled)
        ),
        "{err:?}"
    );
    let stored = w.every_booking(org).await;
    assert_eq!(stored.len(), 4, "three bookings and one move: {stored:?}");
    assert_eq!(
        w.store
            .get_booking(org, b)
            .await
            .unwrap()
            .unwrap()
            .attendees[0]
            .name,
        "Grace Guest",
        "the refused patch wrote nothing"
    );
}
