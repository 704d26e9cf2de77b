//! Event types ([`EventTypeStore`]): round trips of every field, slug uniqueness per owner,
//! optimistic updates and deletes that commit their outbox messages in the same transaction,
//! and the `user_id` / `slug` / `active` filters.

use crate::fixtures::{World, millis};
use domain::event_type::{BookingLimits, EventType, Location, Question, SchedulingType};
use domain::ids::{EventTypeId, OrganizationId};
use domain::pagination::{Limit, PageRequest};
use domain::ports::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// An event type with every optional part set.
fn everything(w: &World, base: EventType) -> EventType {
    EventType {
        description: Some("Line one\nline two — ünïcödé".into()),
        duration_minutes: 45,
        slot_interval_minutes: 15,
        active: false,
        color: "#00ff7f".into(),
        buffer_before_minutes: 5,
        buffer_after_minutes: 10,
        minimum_notice_hours: 12,
        future_limit_days: 60,
        limits: BookingLimits {
            per_day: Some(3),
            per_week: None,
            per_month: Some(40),
        },
        requires_confirmation: true,
        allow_reschedule: false,
        allow_cancel: false,
        locations: vec![
            Location {
                kind: "google_meet".into(),
                label: "Google Meet".into(),
                value: None,
            },
            Location {
                kind: "phone".into(),
                label: "Phone".into(),
                value: Some("+49 30 1234567".into()),
            },
        ],
        questions: vec![
            Question {
                id: "q1".into(),
                key: "company".into(),
                label: "Company".into(),
                kind: "text".into(),
                required: true,
            },
            Question {
                id: "q2".into(),
                key: "notes".into(),
                label: "Anything else?".into(),
                kind: "textarea".into(),
                required: false,
            },
        ],
        created_at: w.now(),
        updated_at: w.now(),
        ..base
    }
}

/// Event types of every scheduling type round-trip whole, by id and by username + slug.
pub async fn event_types_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let (cy, cys) = w.create_host(&t.org, "cy").await;

    let individual = everything(
        &w,
        w.event_type(
            &[(&t.owner, &t.schedule)],
            SchedulingType::Individual,
            "intro",
        ),
    );
    let mut group = w.event_type(&[(&bob, &bobs)], SchedulingType::Group, "class");
    group.seats = 12;
    // Host order is significant (round robin breaks ties by it): cy before the owner.
    let collective = everything(
        &w,
        w.event_type(
            &[(&bob, &bobs), (&cy, &cys), (&t.owner, &t.schedule)],
            SchedulingType::RoundRobin,
            "team",
        ),
    );
    for et in [&individual, &group, &collective] {
        w.store.create_event_type(et).await.unwrap();
        w.clock.advance(millis(5));
    }

    for et in [&individual, &group, &collective] {
        assert_eq!(
            w.store
                .get_event_type(t.org.id, et.id)
                .await
                .unwrap()
                .as_ref(),
            Some(et)
        );
    }
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "acme-owner", "intro")
            .await
            .unwrap(),
        Some(individual.clone())
    );
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "bob", "class")
            .await
            .unwrap(),
        Some(group.clone())
    );
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "bob", "team")
            .await
            .unwrap(),
        Some(collective.clone())
    );
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "cy", "team")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "bob", "intro")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.store
            .get_event_type(t.org.id, EventTypeId(w.id()))
            .await
            .unwrap(),
        None
    );
}

/// Slugs are unique per owner: creating or renaming onto a taken slug is `Duplicate { slug }`;
/// another owner may use the same slug.
pub async fn event_type_slugs_are_unique_per_owner(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let intro = w.create_individual(&t, "intro").await;
    let other = w.create_individual(&t, "other").await;

    let again = w.event_type(
        &[(&t.owner, &t.schedule)],
        SchedulingType::Individual,
        "intro",
    );
    let err = w.store.create_event_type(&again).await.unwrap_err();
    assert!(
        matches!(err, CreateError::Duplicate { field: "slug" }),
        "{err:?}"
    );
    assert_eq!(
        w.store.get_event_type(t.org.id, again.id).await.unwrap(),
        None
    );

    let bobs_intro = w
        .create_event_type(w.event_type(&[(&bob, &bobs)], SchedulingType::Individual, "intro"))
        .await;
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "bob", "intro")
            .await
            .unwrap(),
        Some(bobs_intro)
    );

    let mut renamed = other.clone();
    renamed.slug = intro.slug.clone();
    renamed.version = 2;
    let err = w
        .store
        .update_event_type(&renamed, 1, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpdateError::Duplicate { field: "slug" }),
        "{err:?}"
    );
    assert_eq!(
        w.store.get_event_type(t.org.id, other.id).await.unwrap(),
        Some(other)
    );
}

/// An update writes only at the expected version and commits its outbox messages with it; a
/// stale or missing update writes neither.
pub async fn event_type_updates_are_optimistic_with_outbox(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    w.clock.advance(millis(250));

    let mut v2 = everything(&w, et.clone());
    v2.created_at = et.created_at;
    v2.version = 2;
    let msg = w.outbox_message(t.org.id, "event_type.updated");
    w.store
        .update_event_type(&v2, 1, std::slice::from_ref(&msg))
        .await
        .unwrap();
    assert_eq!(
        w.store.get_event_type(t.org.id, et.id).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg.clone()]);

    let mut stale = et.clone();
    stale.title = "Stale".into();
    stale.version = 2;
    let lost = w.outbox_message(t.org.id, "event_type.updated");
    let err = w
        .store
        .update_event_type(&stale, 1, &[lost])
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::VersionConflict), "{err:?}");
    assert_eq!(
        w.store.get_event_type(t.org.id, et.id).await.unwrap(),
        Some(v2.clone())
    );

    let mut ghost = w.event_type(
        &[(&t.owner, &t.schedule)],
        SchedulingType::Individual,
        "ghost",
    );
    ghost.version = 2;
    let lost = w.outbox_message(t.org.id, "event_type.updated");
    let err = w
        .store
        .update_event_type(&ghost, 1, &[lost])
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");

    // Hosts may change in an update (the host table is rewritten, order kept).
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let mut v3 = v2.clone();
    v3.scheduling_type = SchedulingType::RoundRobin;
    v3.hosts.insert(
        0,
        domain::event_type::Host {
            user_id: bob.id,
            schedule_id: bobs.id,
        },
    );
    v3.version = 3;
    w.store.update_event_type(&v3, 2, &[]).await.unwrap();
    assert_eq!(
        w.store.get_event_type(t.org.id, et.id).await.unwrap(),
        Some(v3)
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg]);
}

/// A delete removes the event type (not its bookings) and commits its outbox message; a second
/// delete is `NotFound` and enqueues nothing.
pub async fn event_type_delete_commits_outbox(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let keep = w.create_individual(&t, "keep").await;

    let msg = w.outbox_message(t.org.id, "event_type.deleted");
    w.store
        .delete_event_type(t.org.id, et.id, std::slice::from_ref(&msg))
        .await
        .unwrap();
    assert_eq!(w.store.get_event_type(t.org.id, et.id).await.unwrap(), None);
    assert_eq!(
        w.store
            .find_event_type(t.org.id, "acme-owner", "intro")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.store.get_event_type(t.org.id, keep.id).await.unwrap(),
        Some(keep)
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg.clone()]);

    let lost = w.outbox_message(t.org.id, "event_type.deleted");
    let err = w
        .store
        .delete_event_type(t.org.id, et.id, &[lost])
        .await
        .unwrap_err();
    assert!(matches!(err, DeleteError::NotFound), "{err:?}");
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![msg]);

    // The slug is free again.
    w.create_individual(&t, "intro").await;
}

/// A delete is refused (`InUse`, nothing enqueued) while a booking of the event type holds time;
/// once it is cancelled the delete succeeds and the booking stays readable.
pub async fn event_type_delete_refused_while_bookings_hold_time(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let mut booking = w.booking(&et, t.owner.id, crate::fixtures::day(1));
    w.insert(&booking, false).await.unwrap();

    let msg = w.outbox_message(t.org.id, "event_type.deleted");
    let err = w
        .store
        .delete_event_type(t.org.id, et.id, &[msg])
        .await
        .unwrap_err();
    assert!(matches!(err, DeleteError::InUse(_)), "{err:?}");
    assert!(
        w.store
            .get_event_type(t.org.id, et.id)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![]);

    booking
        .cancel(Some("moving on".into()), true, w.now())
        .unwrap();
    w.update(&booking, 1).await.unwrap();
    w.store
        .delete_event_type(t.org.id, et.id, &[])
        .await
        .unwrap();
    assert_eq!(w.store.get_event_type(t.org.id, et.id).await.unwrap(), None);
    assert_eq!(
        w.store.get_booking(t.org.id, booking.uid).await.unwrap(),
        Some(booking)
    );
}

async fn ids_matching(
    w: &World,
    org: OrganizationId,
    query: EventTypeQuery,
) -> BTreeSet<EventTypeId> {
    let query = EventTypeQuery {
        page: PageRequest {
            limit: Limit::new(100).unwrap(),
            after: None,
        },
        ..query
    };
    let page = w.store.list_event_types(org, &query).await.unwrap();
    assert!(!page.has_more);
    page.items.iter().map(|e| e.id).collect()
}

/// `user_id` matches owners and hosts; `slug` is exact; `active` filters both ways; filters
/// combine with AND.
pub async fn event_type_filters(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let (cy, _) = w.create_host(&t.org, "cy").await;

    let intro = w.create_individual(&t, "intro").await;
    let mut off = w.event_type(
        &[(&t.owner, &t.schedule)],
        SchedulingType::Individual,
        "off",
    );
    off.active = false;
    let off = w.create_event_type(off).await;
    let bobs_intro = w
        .create_event_type(w.event_type(&[(&bob, &bobs)], SchedulingType::Group, "intro"))
        .await;
    // Owned by the tenant owner, hosted by bob as well.
    let team = w
        .create_event_type(w.event_type(
            &[(&t.owner, &t.schedule), (&bob, &bobs)],
            SchedulingType::RoundRobin,
            "team",
        ))
        .await;

    let all: BTreeSet<_> = [intro.id, off.id, bobs_intro.id, team.id].into();
    let q = |user_id, slug: Option<&str>, active| EventTypeQuery {
        user_id,
        slug: slug.map(str::to_owned),
        active,
        ..EventTypeQuery::default()
    };
    assert_eq!(ids_matching(&w, t.org.id, q(None, None, None)).await, all);
    assert_eq!(
        ids_matching(&w, t.org.id, q(Some(t.owner.id), None, None)).await,
        [intro.id, off.id, team.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(Some(bob.id), None, None)).await,
        [bobs_intro.id, team.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(Some(cy.id), None, None)).await,
        BTreeSet::new()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(None, Some("intro"), None)).await,
        [intro.id, bobs_intro.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(None, Some("intr"), None)).await,
        BTreeSet::new()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(None, None, Some(false))).await,
        [off.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(None, None, Some(true))).await,
        [intro.id, bobs_intro.id, team.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(Some(bob.id), Some("intro"), Some(true))).await,
        [bobs_intro.id].into()
    );
    assert_eq!(
        ids_matching(&w, t.org.id, q(Some(t.owner.id), Some("team"), Some(false))).await,
        BTreeSet::new()
    );
}
