//! Bookings ([`BookingStore`] / [`BookingTx`]): round trips of every field, optimistic updates,
//! rollback on drop, and every filter of [`BookingQuery`].

use crate::fixtures::{World, attendee, day, millis, mins, ts};
use domain::booking::*;
use domain::booking_input::PatchDraft;
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// JSON text may be re-serialised by a store (jsonb); compare it by meaning.
fn canonical_json(raw: &RawJson) -> RawJson {
    let v: serde_json::Value = serde_json::from_str(&raw.0)
        .unwrap_or_else(|e| panic!("store returned invalid JSON {:?}: {e}", raw.0));
    RawJson(v.to_string())
}

/// The booking with its JSON documents in canonical form.
pub fn normalized(b: &Booking) -> Booking {
    let mut b = b.clone();
    b.responses = b.responses.as_ref().map(canonical_json);
    if let Some(m) = &mut b.metadata {
        for v in m.0.values_mut() {
            if let MetadataValue::Json(j) = v {
                *j = canonical_json(j);
            }
        }
    }
    b
}

/// Asserts two optional bookings are equal, JSON compared by meaning.
pub fn assert_same_booking(actual: Option<Booking>, expected: &Booking) {
    let actual = actual.unwrap_or_else(|| panic!("booking {} not found", expected.uid));
    assert_eq!(normalized(&actual), normalized(expected));
}

/// A booking with every optional field set.
fn everything(w: &World, base: Booking) -> Booking {
    Booking {
        status: BookingStatus::Pending,
        timezone: "America/New_York".into(),
        attendees: vec![
            Attendee {
                email: "Grace.Hopper@Example.com".into(),
                name: "Grace Hopper".into(),
                first_name: Some("Grace".into()),
                last_name: Some("Hopper".into()),
                phone: Some("+1 202 555 0100".into()),
                timezone: Some("America/New_York".into()),
                sms_opt_in: true,
            },
            attendee("second@example.com"),
        ],
        guests: vec!["a@example.com".into(), "b@example.org".into()],
        location: Some(BookingLocation {
            kind: Some("google_meet".into()),
            url: Some("https://meet.example.com/abc".into()),
            value: Some("abc-defg-hij".into()),
        }),
        metadata: Some(Metadata(
            [
                ("crm_id".to_string(), MetadataValue::Text("0042".into())),
                (
                    "score".to_string(),
                    MetadataValue::Json(RawJson("12.5".into())),
                ),
                (
                    "tags".to_string(),
                    MetadataValue::Json(RawJson(r#"{"a":[1,true,null],"b":"x"}"#.into())),
                ),
            ]
            .into(),
        )),
        responses: Some(RawJson(
            r#"{"company":"Navy","notes":"ünïcödé \"quoted\""}"#.into(),
        )),
        utm: Utm {
            source: Some("newsletter".into()),
            medium: Some("email".into()),
            campaign: Some("spring".into()),
        },
        calendar_sync_status: CalendarSyncStatus::Failed,
        calendar_event_id: Some("evt_123".into()),
        rescheduled_from_uid: Some(BookingUid(w.id())),
        reschedule_generation: 3,
        cancellation_reason: Some("earlier reason".into()),
        no_show_at: Some(ts("2026-01-04T10:11:12.345Z")),
        no_show_reason: Some("did not join".into()),
        created_at: ts("2026-01-03T01:02:03.004Z"),
        updated_at: ts("2026-01-04T05:06:07.891Z"),
        ..base
    }
}

/// Bookings round-trip every field, read outside and inside a transaction.
pub async fn bookings_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let mut et = w.event_type(
        &[(&t.owner, &t.schedule)],
        domain::event_type::SchedulingType::Individual,
        "intro",
    );
    et.buffer_before_minutes = 10;
    et.buffer_after_minutes = 5;
    let et = w.create_event_type(et).await;

    let full = everything(&w, w.booking(&et, t.owner.id, day(1) + mins(90)));
    let plain = w.booking(&et, t.owner.id, day(2));
    let mut cancelled = w.booking(&et, t.owner.id, day(3));
    cancelled.status = BookingStatus::Canceled;
    cancelled.cancelled_at = Some(ts("2026-01-05T00:00:00.001Z"));
    let mut moved = w.booking(&et, t.owner.id, day(4));
    moved.status = BookingStatus::Rescheduled;
    moved.rescheduled_at = Some(ts("2026-01-05T00:00:00.999Z"));
    moved.cancellation_reason = Some("moved".into());
    w.insert_all(&[
        full.clone(),
        plain.clone(),
        cancelled.clone(),
        moved.clone(),
    ])
    .await;

    for b in [&full, &plain, &cancelled, &moved] {
        assert_same_booking(w.store.get_booking(t.org.id, b.uid).await.unwrap(), b);
    }
    assert_eq!(
        w.store
            .get_booking(t.org.id, BookingUid(w.id()))
            .await
            .unwrap(),
        None
    );

    let mut tx = w.store.begin(t.org.id, et.id).await.unwrap();
    assert_same_booking(tx.get_booking(full.uid).await.unwrap(), &full);
    assert_eq!(tx.get_booking(BookingUid(w.id())).await.unwrap(), None);
    drop(tx);

    let listed = w.every_booking(t.org.id).await;
    let listed: Vec<Booking> = listed.iter().map(normalized).collect();
    let expected: Vec<Booking> = [&full, &plain, &cancelled, &moved]
        .into_iter()
        .map(normalized)
        .collect();
    // Lists may drop `responses` (the wire does); every other field must match.
    let strip = |b: &Booking| Booking {
        responses: None,
        ..b.clone()
    };
    assert_eq!(
        listed.iter().map(strip).collect::<Vec<_>>(),
        expected.iter().map(strip).collect::<Vec<_>>()
    );
}

/// `update_booking` writes at the expected version only; dropping a transaction rolls back.
pub async fn booking_updates_are_optimistic_and_drop_rolls_back(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let et = w.create_individual(&t, "intro").await;
    let original = w.booking(&et, t.owner.id, day(1));
    w.insert(&original, false).await.unwrap();

    w.clock.advance(millis(10));
    let mut v2 = original.clone();
    let patch = BookingPatch::new(
        PatchDraft {
            metadata: Some(Metadata(
                [("k".to_string(), MetadataValue::Text("v".into()))].into(),
            )),
            responses: None,
            attendee_name: Some("Renamed".into()),
        },
        &v2,
        Some(&et),
    )
    .unwrap();
    v2.apply_patch(&patch, w.now());
    w.update(&v2, 1).await.unwrap();
    assert_same_booking(
        w.store.get_booking(t.org.id, original.uid).await.unwrap(),
        &v2,
    );

    let mut stale = original.clone();
    stale.cancel(None, true, w.now()).unwrap();
    let err = w.update(&stale, 1).await.unwrap_err();
    assert!(matches!(err, BookingWriteError::VersionConflict), "{err:?}");
    assert_same_booking(
        w.store.get_booking(t.org.id, original.uid).await.unwrap(),
        &v2,
    );

    // Writes of a dropped transaction vanish, and it sees its own writes before that.
    let mut v3 = v2.clone();
    v3.cancel(Some("dropped".into()), true, w.now()).unwrap();
    let extra = w.booking(&et, t.owner.id, day(2));
    let mut tx = w.store.begin(t.org.id, et.id).await.unwrap();
    tx.update_booking(&v3, 2).await.unwrap();
    tx.insert_booking(&extra, false).await.unwrap();
    tx.enqueue(&w.outbox_message(t.org.id, "booking.canceled"))
        .await
        .unwrap();
    assert_same_booking(tx.get_booking(extra.uid).await.unwrap(), &extra);
    assert_same_booking(tx.get_booking(v3.uid).await.unwrap(), &v3);
    drop(tx);
    assert_same_booking(
        w.store.get_booking(t.org.id, original.uid).await.unwrap(),
        &v2,
    );
    assert_eq!(
        w.store.get_booking(t.org.id, extra.uid).await.unwrap(),
        None
    );
    assert_eq!(w.store.pending(t.org.id).await.unwrap(), vec![]);

    // A missing booking cannot be updated.
    let ghost = w.booking(&et, t.owner.id, day(3));
    let err = w.update(&ghost, 1).await.unwrap_err();
    assert!(
        matches!(err, BookingWriteError::VersionConflict),
        "updating a missing booking: {err:?}"
    );
}

/// Uids of the bookings matching `query`.
async fn uids(w: &World, org: OrganizationId, query: BookingQuery) -> BTreeSet<BookingUid> {
    w.all_bookings(org, &query)
        .await
        .iter()
        .map(|b| b.uid)
        .collect()
}

/// Every filter alone and combined: event type, several hosts, attendee e-mail (exact,
/// case-sensitive, any attendee), several statuses, inclusive start bounds, `updated_since`,
/// and `include_cancelled` (ignored when statuses are given).
pub async fn booking_filters(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let (bob, bobs) = w.create_host(&t.org, "bob").await;
    let (cy, cys) = w.create_host(&t.org, "cy").await;
    let intro = w.create_individual(&t, "intro").await;
    let kind = domain::event_type::SchedulingType::Individual;
    let bob_et = w
        .create_event_type(w.event_type(&[(&bob, &bobs)], kind, "bob"))
        .await;
    let cy_et = w
        .create_event_type(w.event_type(&[(&cy, &cys)], kind, "cy"))
        .await;

    let at = |h: i64| day(1) + mins(60 * h);
    let upd = |n: i64| ts("2026-01-10T00:00:00Z") + millis(n);
    let mk = |et, host, h, status, email: &str, updated| {
        let mut b = w.booking(et, host, at(h));
        b.status = status;
        b.attendees = vec![attendee("first@example.com"), attendee(email)];
        b.updated_at = upd(updated);
        b
    };
    use BookingStatus::*;
    let a1 = mk(&intro, t.owner.id, 0, Confirmed, "Alice@example.com", 0);
    let a2 = mk(&intro, t.owner.id, 1, Canceled, "alice@example.com", 10);
    let a3 = mk(&intro, t.owner.id, 2, Pending, "zed@example.com", 20);
    let b1 = mk(&bob_et, bob.id, 0, Confirmed, "alice@example.com", 30);
    let b2 = mk(&bob_et, bob.id, 3, Rescheduled, "zed@example.com", 40);
    let c1 = mk(&cy_et, cy.id, 2, Canceled, "Alice@example.com", 50);
    let c2 = mk(&cy_et, cy.id, 4, Confirmed, "yan@example.com", 60);
    w.insert_all(&[a1.clone(), a2.clone(), a3.clone()]).await;
    w.insert_all(&[b1.clone(), b2.clone()]).await;
    w.insert_all(&[c1.clone(), c2.clone()]).await;

    let set = |bs: &[&Booking]| bs.iter().map(|b| b.uid).collect::<BTreeSet<_>>();
    let all = || BookingQuery {
        include_cancelled: true,
        ..BookingQuery::default()
    };
    let org = t.org.id;

    assert_eq!(
        uids(&w, org, all()).await,
        set(&[&a1, &a2, &a3, &b1, &b2, &c1, &c2])
    );
    let q = BookingQuery {
        include_cancelled: false,
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a1, &a3, &b1, &b2, &c2]),
        "include_cancelled=false"
    );

    let q = BookingQuery {
        event_type_id: Some(intro.id),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a1, &a2, &a3]),
        "event_type_id"
    );

    let q = BookingQuery {
        host_user_ids: vec![bob.id],
        ..all()
    };
    assert_eq!(uids(&w, org, q).await, set(&[&b1, &b2]), "one host");
    let q = BookingQuery {
        host_user_ids: vec![bob.id, cy.id],
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&b1, &b2, &c1, &c2]),
        "two hosts"
    );

    let email = |e: &str| BookingQuery {
        attendee_email: Some(e.into()),
        ..all()
    };
    assert_eq!(
        uids(&w, org, email("Alice@example.com")).await,
        set(&[&a1, &c1]),
        "case-sensitive"
    );
    assert_eq!(
        uids(&w, org, email("alice@example.com")).await,
        set(&[&a2, &b1]),
        "exact"
    );
    assert_eq!(
        uids(&w, org, email("first@example.com")).await.len(),
        7,
        "any attendee"
    );
    assert_eq!(
        uids(&w, org, email("alice@example")).await,
        set(&[]),
        "no prefix match"
    );

    let q = BookingQuery {
        statuses: vec![Canceled],
        include_cancelled: false,
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a2, &c1]),
        "statuses win over include_cancelled"
    );
    let q = BookingQuery {
        statuses: vec![Confirmed, Rescheduled],
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a1, &b1, &b2, &c2]),
        "two statuses"
    );
    let q = BookingQuery {
        statuses: vec![Pending],
        ..all()
    };
    assert_eq!(uids(&w, org, q).await, set(&[&a3]), "pending");

    let q = BookingQuery {
        start_from: Some(at(2)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a3, &b2, &c1, &c2]),
        "start_from inclusive"
    );
    let q = BookingQuery {
        start_to: Some(at(1)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a1, &a2, &b1]),
        "start_to inclusive"
    );
    let q = BookingQuery {
        start_from: Some(at(1)),
        start_to: Some(at(3)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a2, &a3, &b2, &c1]),
        "start range"
    );
    let q = BookingQuery {
        start_from: Some(at(1) + millis(1)),
        start_to: Some(at(3) - millis(1)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a3, &c1]),
        "bounds are exact to the ms"
    );

    let q = BookingQuery {
        updated_since: Some(upd(40)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&b2, &c1, &c2]),
        "updated_since >="
    );
    let q = BookingQuery {
        updated_since: Some(upd(41)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&c1, &c2]),
        "updated_since to the ms"
    );

    let q = BookingQuery {
        host_user_ids: vec![t.owner.id, cy.id],
        attendee_email: Some("Alice@example.com".into()),
        include_cancelled: false,
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&a1]),
        "hosts + email + no cancelled"
    );
    let q = BookingQuery {
        event_type_id: Some(cy_et.id),
        statuses: vec![Confirmed, Canceled],
        start_from: Some(at(3)),
        updated_since: Some(upd(0)),
        ..all()
    };
    assert_eq!(
        uids(&w, org, q).await,
        set(&[&c2]),
        "event type + statuses + start + updated"
    );
    let q = BookingQuery {
        event_type_id: Some(intro.id),
        host_user_ids: vec![bob.id],
        ..all()
    };
    assert_eq!(uids(&w, org, q).await, set(&[]), "contradictory filters");
}
