//! Tenancy: every port method called with organization A's id and organization B's row ids
//! finds nothing, changes nothing, and reports "not found" — the one cross-tenant read being the
//! token lookup by its public id.

use crate::bookings::assert_same_booking;
use crate::fixtures::{LEASE, World, day, idempotency_key, reserved};
use domain::ports::*;
use std::sync::Arc;

/// Builds the same kinds of rows in A and B, then probes A with B's ids.
pub async fn other_tenants_rows_are_invisible(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    let a_et = w.create_individual(&a, "intro").await;
    let b_et = w.create_individual(&b, "intro").await;
    let a_booking = w.booking(&a_et, a.owner.id, day(1));
    let b_booking = w.booking(&b_et, b.owner.id, day(1));
    w.insert(&a_booking, false).await.unwrap();
    w.insert(&b_booking, false).await.unwrap();
    let b_pat = w.pat(&b.org, &b.owner, "ci");
    w.store.create_pat(&b_pat, w.now()).await.unwrap();
    let b_msg = w.outbox_message(b.org.id, "booking.created");
    w.store.enqueue(&b_msg).await.unwrap();
    let (ao, bo) = (a.org.id, b.org.id);

    // Directory.
    assert_eq!(w.store.get_user(ao, b.owner.id).await.unwrap(), None);
    assert_eq!(
        w.store.find_user_by_username(ao, "b-owner").await.unwrap(),
        None
    );
    assert_eq!(w.store.list_users(ao).await.unwrap(), vec![a.owner.clone()]);
    assert!(
        !w.store
            .set_password_hash(ao, b.owner.id, "$stolen")
            .await
            .unwrap()
    );
    assert_eq!(
        w.store.get_user(bo, b.owner.id).await.unwrap(),
        Some(b.owner.clone())
    );

    // Schedules.
    assert_eq!(w.store.get_schedule(ao, b.schedule.id).await.unwrap(), None);
    assert_eq!(
        w.store.list_schedules(ao, None).await.unwrap(),
        vec![a.schedule.clone()]
    );
    assert_eq!(
        w.store.list_schedules(ao, Some(b.owner.id)).await.unwrap(),
        vec![]
    );
    let mut hijack = b.schedule.clone();
    hijack.organization_id = ao;
    hijack.name = "Hijacked".into();
    hijack.version = 2;
    let err = w.store.update_schedule(&hijack, 1, &[]).await.unwrap_err();
    assert!(
        matches!(err, UpdateError::NotFound),
        "update_schedule: {err:?}"
    );
    let unused = w.create_schedule(&b.owner).await;
    let err = w.store.delete_schedule(ao, unused.id).await.unwrap_err();
    assert!(
        matches!(err, DeleteError::NotFound),
        "delete_schedule: {err:?}"
    );
    assert_eq!(
        w.store.get_schedule(bo, b.schedule.id).await.unwrap(),
        Some(b.schedule.clone())
    );
    assert_eq!(
        w.store.get_schedule(bo, unused.id).await.unwrap(),
        Some(unused)
    );

    // Event types.
    assert_eq!(w.store.get_event_type(ao, b_et.id).await.unwrap(), None);
    assert_eq!(
        w.store
            .find_event_type(ao, "b-owner", "intro")
            .await
            .unwrap(),
        None
    );
    let listed = w
        .store
        .list_event_types(ao, &EventTypeQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items, vec![a_et.clone()]);
    let by_b_user = EventTypeQuery {
        user_id: Some(b.owner.id),
        ..EventTypeQuery::default()
    };
    assert_eq!(
        w.store
            .list_event_types(ao, &by_b_user)
            .await
            .unwrap()
            .items,
        vec![]
    );
    let mut hijack = b_et.clone();
    hijack.organization_id = ao;
    hijack.title = "Hijacked".into();
    hijack.version = 2;
    let lost = w.outbox_message(ao, "event_type.updated");
    let err = w
        .store
        .update_event_type(&hijack, 1, &[lost])
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpdateError::NotFound),
        "update_event_type: {err:?}"
    );
    let lost = w.outbox_message(ao, "event_type.deleted");
    let err = w
        .store
        .delete_event_type(ao, b_et.id, &[lost])
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeleteError::NotFound),
        "delete_event_type: {err:?}"
    );
    assert_eq!(
        w.store.get_event_type(bo, b_et.id).await.unwrap(),
        Some(b_et.clone())
    );

    // Bookings.
    assert_eq!(w.store.get_booking(ao, b_booking.uid).await.unwrap(), None);
    let everything = BookingQuery {
        include_cancelled: true,
        ..BookingQuery::default()
    };
    let listed = w.all_bookings(ao, &everything).await;
    assert_eq!(
        listed.iter().map(|x| x.uid).collect::<Vec<_>>(),
        vec![a_booking.uid]
    );
    for q in [
        BookingQuery {
            event_type_id: Some(b_et.id),
            ..everything.clone()
        },
        BookingQuery {
            host_user_ids: vec![b.owner.id],
            ..everything.clone()
        },
    ] {
        assert_eq!(w.all_bookings(ao, &q).await, vec![], "{q:?}");
    }
    let mut tx = w.store.begin(ao, a_et.id).await.unwrap();
    assert_eq!(tx.get_booking(b_booking.uid).await.unwrap(), None);
    let mut hijack = b_booking.clone();
    hijack.cancel(None, true, w.now()).unwrap();
    let r = tx.update_booking(&hijack, 1).await;
    assert!(
        r.is_err(),
        "update_booking of another tenant's booking succeeded"
    );
    drop(tx);
    let mut tx = w.store.begin(ao, b_et.id).await.unwrap();
    assert_eq!(tx.get_booking(b_booking.uid).await.unwrap(), None);
    drop(tx);
    assert_same_booking(
        w.store.get_booking(bo, b_booking.uid).await.unwrap(),
        &b_booking,
    );

    // Tokens.
    assert_eq!(w.store.list_pats(ao, None).await.unwrap(), vec![]);
    assert_eq!(
        w.store.list_pats(ao, Some(b.owner.id)).await.unwrap(),
        vec![]
    );
    assert!(!w.store.revoke_pat(ao, b_pat.id, w.now()).await.unwrap());
    assert_eq!(
        w.store.find_pat_by_lookup(&b_pat.lookup).await.unwrap(),
        Some(b_pat.clone())
    );

    // Outbox and idempotency.
    assert_eq!(w.store.pending(ao).await.unwrap(), vec![]);
    w.store.mark_done(ao, b_msg.id, w.now()).await.unwrap();
    assert_eq!(w.store.pending(bo).await.unwrap(), vec![b_msg]);
    let b_key = idempotency_key(bo, "pat:1", "k");
    let b_key = reserved(
        &b_key,
        w.store.reserve(&b_key, "fp", w.now(), LEASE).await.unwrap(),
    );
    // Even with B's nonce, a release scoped to A touches nothing of B.
    let a_key = ReservedKey {
        key: idempotency_key(ao, "pat:1", "k"),
        nonce: b_key.nonce,
    };
    w.store.release(&a_key).await.unwrap();
    assert_eq!(
        w.store.reserve(&b_key, "fp", w.now(), LEASE).await.unwrap(),
        Reservation::InProgress
    );

    // Nothing in B changed.
    assert_eq!(w.store.list_users(bo).await.unwrap(), vec![b.owner]);
    assert_eq!(w.store.list_pats(bo, None).await.unwrap(), vec![b_pat]);
}
