//! Availability schedules ([`ScheduleStore`]): round trips of rules, overrides and zones,
//! optimistic updates with their outbox messages, the event types a schedule zones, and deletes
//! refused while an event type still uses the schedule.

use crate::fixtures::{World, millis, ts};
use domain::availability::{DateOverride, LocalRange, Schedule, TimeOfDay, WeeklyRule, Zone};
use domain::event_type::SchedulingType;
use domain::ids::ScheduleId;
use domain::ports::*;
use jiff::civil::{Weekday, date};
use std::sync::Arc;

fn range(a: &str, b: &str) -> LocalRange {
    LocalRange::new(TimeOfDay::parse(a).unwrap(), TimeOfDay::parse(b).unwrap()).unwrap()
}

/// A schedule with every part filled: two rules, a working override and a day off.
fn office_hours(w: &World, base: &Schedule) -> Schedule {
    Schedule {
        id: ScheduleId(w.id()),
        name: "Office hours".into(),
        zone: Zone::parse("Europe/Berlin").unwrap(),
        rules: vec![
            WeeklyRule {
                days: vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday],
                range: range("09:00", "12:30"),
            },
            WeeklyRule {
                days: vec![Weekday::Monday],
                range: range("14:00", "24:00"),
            },
        ],
        overrides: vec![
            DateOverride {
                date: date(2026, 12, 24),
                intervals: vec![],
            },
            DateOverride {
                date: date(2026, 12, 27),
                intervals: vec![range("10:00", "11:00"), range("15:15", "16:45")],
            },
        ],
        created_at: w.now(),
        updated_at: w.now(),
        ..base.clone()
    }
}

/// Schedules round-trip whole and list oldest first, optionally for one user.
pub async fn schedules_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let other = w.create_user(&t.org, "bob").await;
    w.clock.advance(millis(3));
    let office = office_hours(&w, &t.schedule);
    w.store.create_schedule(&office).await.unwrap();
    w.clock.advance(millis(3));
    let bobs = w.create_schedule(&other).await;

    assert_eq!(
        w.store.get_schedule(t.org.id, office.id).await.unwrap(),
        Some(office.clone())
    );
    assert_eq!(
        w.store
            .get_schedule(t.org.id, ScheduleId(w.id()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.store.list_schedules(t.org.id, None).await.unwrap(),
        vec![t.schedule.clone(), office.clone(), bobs.clone()]
    );
    assert_eq!(
        w.store
            .list_schedules(t.org.id, Some(t.owner.id))
            .await
            .unwrap(),
        vec![t.schedule.clone(), office]
    );
    assert_eq!(
        w.store
            .list_schedules(t.org.id, Some(other.id))
            .await
            .unwrap(),
        vec![bobs]
    );
}

/// Updates write only when the stored version is the expected one; a stale writer changes
/// nothing; a missing schedule is `NotFound`.
pub async fn schedule_updates_are_optimistic(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    w.clock.advance(millis(1000));

    let mut v2 = office_hours(&w, &t.schedule);
    v2.id = t.schedule.id;
    v2.created_at = t.schedule.created_at;
    v2.version = 2;
    w.store.update_schedule(&v2, 1, &[]).await.unwrap();
    assert_eq!(
        w.store.get_schedule(t.org.id, v2.id).await.unwrap(),
        Some(v2.clone())
    );

    let mut stale = t.schedule.clone();
    stale.name = "Stale writer".into();
    stale.version = 2;
    let err = w.store.update_schedule(&stale, 1, &[]).await.unwrap_err();
    assert!(matches!(err, UpdateError::VersionConflict), "{err:?}");
    assert_eq!(
        w.store.get_schedule(t.org.id, v2.id).await.unwrap(),
        Some(v2.clone())
    );

    let mut v3 = v2.clone();
    v3.rules.clear();
    v3.overrides.pop();
    v3.version = 3;
    v3.updated_at = ts("2026-01-06T08:09:10.123Z");
    w.store.update_schedule(&v3, 2, &[]).await.unwrap();
    assert_eq!(
        w.store.get_schedule(t.org.id, v3.id).await.unwrap(),
        Some(v3)
    );

    let mut ghost = w.schedule(&t.owner);
    ghost.version = 2;
    let err = w.store.update_schedule(&ghost, 1, &[]).await.unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    assert_eq!(
        w.store.get_schedule(t.org.id, ghost.id).await.unwrap(),
        None
    );
}

/// A schedule an event type uses (as any host's schedule) cannot be deleted; once unused it can,
/// and a second delete is `NotFound`.
pub async fn schedule_delete_refused_while_in_use(store: Arc<dyn Storage>) {
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

    for id in [t.schedule.id, bobs.id] {
        let err = w.store.delete_schedule(t.org.id, id).await.unwrap_err();
        assert!(matches!(err, DeleteError::InUse(_)), "{err:?}");
        assert!(w.store.get_schedule(t.org.id, id).await.unwrap().is_some());
    }

    let unused = w.create_schedule(&t.owner).await;
    w.store.delete_schedule(t.org.id, unused.id).await.unwrap();
    assert_eq!(
        w.store.get_schedule(t.org.id, unused.id).await.unwrap(),
        None
    );

    w.store
        .delete_event_type(t.org.id, et.id, &[])
        .await
        .unwrap();
    w.store.delete_schedule(t.org.id, bobs.id).await.unwrap();
    assert_eq!(w.store.get_schedule(t.org.id, bobs.id).await.unwrap(), None);
    let err = w
        .store
        .delete_schedule(t.org.id, bobs.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DeleteError::NotFound), "{err:?}");
    assert_eq!(
        w.store.list_schedules(t.org.id, None).await.unwrap(),
        vec![t.schedule]
    );
}

/// The event types a schedule zones are those whose *first* host uses it, oldest first, in
/// the schedule's organization only (after a host change too); an update's outbox messages
/// commit with it, and a refused update (stale version, missing schedule) writes none.
pub async fn schedule_updates_commit_outbox(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let first = w.create_individual(&t, "first").await;
    w.clock.advance(millis(5));
    let second = w
        .create_event_type(w.event_type(
            &[(&t.owner, &t.schedule), (&bob, &bobs)],
            SchedulingType::RoundRobin,
            "second",
        ))
        .await;
    w.clock.advance(millis(5));
    // Bob's schedule is this one's second host only: not zoned by it.
    let other = w
        .create_event_type(w.event_type(
            &[(&bob, &bobs), (&t.owner, &t.schedule)],
            SchedulingType::RoundRobin,
            "other",
        ))
        .await;
    let elsewhere = w.create_tenant("globex").await;
    w.create_individual(&elsewhere, "far").await;

    let ids =
        |v: Vec<domain::event_type::EventType>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(w
            .store
            .zoned_event_types(t.org.id, t.schedule.id)
            .await
            .unwrap()),
        vec![first.id, second.id],
        "first hosts only, oldest first"
    );
    assert_eq!(
        ids(w.store.zoned_event_types(t.org.id, bobs.id).await.unwrap()),
        vec![other.id]
    );
    assert_eq!(
        ids(w
            .store
            .zoned_event_types(elsewhere.org.id, t.schedule.id)
            .await
            .unwrap()),
        vec![],
        "another organization sees none"
    );
    // A host change moves the event type to the new first host's schedule.
    let mut moved = second.clone();
    moved.hosts.swap(0, 1);
    moved.version = 2;
    w.store.update_event_type(&moved, 1, &[]).await.unwrap();
    assert_eq!(
        ids(w
            .store
            .zoned_event_types(t.org.id, t.schedule.id)
            .await
            .unwrap()),
        vec![first.id]
    );
    assert_eq!(
        ids(w.store.zoned_event_types(t.org.id, bobs.id).await.unwrap()),
        vec![second.id, other.id]
    );

    w.clock.advance(millis(10));
    let mut v2 = t.schedule.clone();
    v2.zone = Zone::parse("America/New_York").unwrap();
    v2.version = 2;
    v2.updated_at = w.now();
    let msgs = vec![
        w.outbox_message(t.org.id, "event_type.updated"),
        w.outbox_message(t.org.id, "event_type.updated"),
    ];
    w.store.update_schedule(&v2, 1, &msgs).await.unwrap();
    assert_eq!(
        w.store.get_schedule(t.org.id, v2.id).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), msgs);

    let mut stale = t.schedule.clone();
    stale.version = 2;
    let lost = w.outbox_message(t.org.id, "event_type.updated");
    let err = w
        .store
        .update_schedule(&stale, 1, std::slice::from_ref(&lost))
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::VersionConflict), "{err:?}");
    let mut ghost = w.schedule(&t.owner);
    ghost.version = 2;
    let err = w
        .store
        .update_schedule(&ghost, 1, std::slice::from_ref(&lost))
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    assert_eq!(
        w.store.pending(t.org.id).await.unwrap(),
        msgs,
        "a refused update enqueues nothing"
    );
    assert_eq!(
        w.store.get_schedule(t.org.id, v2.id).await.unwrap(),
        Some(v2)
    );
}
