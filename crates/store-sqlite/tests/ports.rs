//! Port behaviour of `SqliteStore` checked directly here (the shared suite in `store-contract`
//! covers the same ports on both stores): duplicates, list filters and keyset pages, idempotency
//! with a fake clock, outbox leases, token caps, and the booking service under a storm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use domain::booking::BookingStatus;
use domain::booking_service::{BookingService, CreateBookingError};
use domain::ids::*;
use domain::pagination::{Cursor, Limit, PageRequest};
use domain::ports::*;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use store_sqlite::SqliteStore;
use support::*;

#[tokio::test]
async fn duplicates_name_their_field() {
    let (store, _dir) = file_store("dup").await;
    let w = world(&store, "dupe").await;
    let now = ts("2026-01-01T00:00:00Z");
    let other_org = organization(now);
    store.create_organization(&other_org).await.unwrap();
    // username: unique across the deployment
    let u = user(other_org.id, "dupe", "x@example.com", now);
    assert!(matches!(
        store.create_user(&u).await,
        Err(CreateError::Duplicate { field: "username" })
    ));
    // e-mail: per organization, case-insensitively
    let u = user(w.org.id, "second", "DUPE@Example.com", now);
    assert!(matches!(
        store.create_user(&u).await,
        Err(CreateError::Duplicate { field: "email" })
    ));
    store
        .create_user(&user(other_org.id, "third", "dupe@example.com", now))
        .await
        .unwrap();
    // slug: per owner
    let mut et = event_type(w.org.id, w.host.id, w.schedule.id, "intro", now);
    assert!(matches!(
        store.create_event_type(&et).await,
        Err(CreateError::Duplicate { field: "slug" })
    ));
    et.slug = "second".into();
    store.create_event_type(&et).await.unwrap();
    let mut renamed = et.clone();
    renamed.slug = "intro".into();
    renamed.version = 2;
    assert!(matches!(
        store.update_event_type(&renamed, 1, &[]).await,
        Err(UpdateError::Duplicate { field: "slug" })
    ));
    assert!(matches!(
        store.update_event_type(&et, 9, &[]).await,
        Err(UpdateError::VersionConflict)
    ));
    // tenancy: another organization cannot read it
    assert!(
        store
            .get_event_type(other_org.id, et.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .find_event_type(w.org.id, "dupe", "second")
            .await
            .unwrap()
            .map(|e| e.id),
        Some(et.id)
    );
    // schedules in use are not deleted
    assert!(matches!(
        store.delete_schedule(w.org.id, w.schedule.id).await,
        Err(DeleteError::InUse(_))
    ));
}

#[tokio::test]
async fn event_type_lists_filter_by_owner_or_host_and_page_by_title() {
    let (store, _dir) = file_store("etlist").await;
    let w = world(&store, "owner").await;
    let now = ts("2026-01-01T00:00:00Z");
    let guest_host = user(w.org.id, "cohost", "cohost@example.com", now);
    store.create_user(&guest_host).await.unwrap();
    let sched = always_open(w.org.id, guest_host.id, now);
    store.create_schedule(&sched).await.unwrap();
    let mut rr = event_type(w.org.id, w.host.id, w.schedule.id, "rr", now);
    rr.scheduling_type = domain::event_type::SchedulingType::RoundRobin;
    rr.hosts.push(domain::event_type::Host {
        user_id: guest_host.id,
        schedule_id: sched.id,
    });
    rr.title = "Alpha".into();
    store.create_event_type(&rr).await.unwrap();
    let q = EventTypeQuery {
        user_id: Some(guest_host.id),
        ..Default::default()
    };
    let page = store.list_event_types(w.org.id, &q).await.unwrap();
    assert_eq!(
        page.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![rr.id]
    );
    assert_eq!(page.items[0], rr);
    // title pages of one
    let mut seen = vec![];
    let mut after = None;
    loop {
        let q = EventTypeQuery {
            sort: EventTypeSort::TitleAsc,
            page: PageRequest {
                limit: Limit::new(1).unwrap(),
                after,
            },
            ..Default::default()
        };
        let page = store.list_event_types(w.org.id, &q).await.unwrap();
        seen.extend(page.items.iter().map(|e| e.title.clone()));
        match page.next_cursor {
            Some(c) => after = Some(Cursor::decode(&c, "title_asc").unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["Alpha".to_string(), "Meeting intro".to_string()]);
}

async fn book(store: &SqliteStore, b: &domain::booking::Booking) {
    let mut tx = store
        .begin(b.organization_id, b.event_type_id)
        .await
        .unwrap();
    tx.insert_booking(b, false).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn booking_lists_filter_and_page_without_gaps_or_repeats() {
    let (store, _dir) = file_store("blist").await;
    let w = world(&store, "lister").await;
    let base = ts("2026-06-01T09:00:00Z");
    let mut all = vec![];
    for i in 0..7i64 {
        let mut b = booking(
            &w.event_type,
            base.checked_add(SignedDuration::from_hours(i)).unwrap(),
        );
        if i == 3 {
            b.status = BookingStatus::Canceled;
        }
        if i == 5 {
            b.attendees.push(attendee("Second@Example.com"));
        }
        book(&store, &b).await;
        all.push(b);
    }
    let list = |q: BookingQuery| {
        let s = store.clone();
        let org = w.org.id;
        async move { s.list_bookings(org, &q).await.unwrap() }
    };
    // defaults: start_at_desc, canceled included
    let page = list(BookingQuery {
        include_cancelled: true,
        ..Default::default()
    })
    .await;
    assert_eq!(page.items.len(), 7);
    assert_eq!(page.items[0].uid, all[6].uid);
    // include_cancelled=false only applies without statuses
    let page = list(BookingQuery::default()).await;
    assert_eq!(page.items.len(), 6);
    let page = list(BookingQuery {
        statuses: vec![BookingStatus::Canceled],
        ..Default::default()
    })
    .await;
    assert_eq!(
        page.items.iter().map(|b| b.uid).collect::<Vec<_>>(),
        vec![all[3].uid]
    );
    // attendee e-mail: exact and case-sensitive, on any attendee
    let page = list(BookingQuery {
        attendee_email: Some("Second@Example.com".into()),
        include_cancelled: true,
        ..Default::default()
    })
    .await;
    assert_eq!(
        page.items.iter().map(|b| b.uid).collect::<Vec<_>>(),
        vec![all[5].uid]
    );
    let page = list(BookingQuery {
        attendee_email: Some("second@example.com".into()),
        include_cancelled: true,
        ..Default::default()
    })
    .await;
    assert!(page.items.is_empty());
    // start bounds are both inclusive
    let page = list(BookingQuery {
        start_from: Some(all[1].start),
        start_to: Some(all[2].start),
        sort: BookingSort::StartAtAsc,
        ..Default::default()
    })
    .await;
    assert_eq!(
        page.items.iter().map(|b| b.uid).collect::<Vec<_>>(),
        vec![all[1].uid, all[2].uid]
    );
    // host filter, and another host's empty list
    let page = list(BookingQuery {
        host_user_ids: vec![UserId(uuid::Uuid::nil())],
        ..Default::default()
    })
    .await;
    assert!(page.items.is_empty());
    // pages of two, every sort, no gaps or repeats
    for sort in BookingSort::ALL {
        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = list(BookingQuery {
                include_cancelled: true,
                sort,
                page: PageRequest {
                    limit: Limit::new(2).unwrap(),
                    after,
                },
                ..Default::default()
            })
            .await;
            seen.extend(page.items.iter().map(|b| b.uid));
            match page.next_cursor {
                Some(c) => after = Some(Cursor::decode(&c, sort.as_str()).unwrap()),
                None => break,
            }
        }
        let mut expected: Vec<BookingUid> = all.iter().map(|b| b.uid).collect();
        if matches!(
            sort,
            BookingSort::StartAtDesc | BookingSort::CreatedAtDesc | BookingSort::UpdatedAtDesc
        ) {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{}", sort.as_str());
    }
}

#[tokio::test]
async fn idempotency_follows_the_fake_clock() {
    let (store, _dir) = file_store("idem").await;
    let w = world(&store, "idem").await;
    let key = IdempotencyKey {
        organization_id: w.org.id,
        owner: "pat:1".into(),
        key: "k1".into(),
    };
    let t0 = ts("2026-01-01T00:00:00Z");
    let at = |mins: i64| t0.checked_add(SignedDuration::from_mins(mins)).unwrap();
    let lease = SignedDuration::from_mins(5);
    let first = store.reserve(&key, "f1", t0, lease).await.unwrap();
    let first = ReservedKey {
        key: key.clone(),
        nonce: first.nonce().expect("reserved"),
    };
    assert_eq!(
        store.reserve(&key, "f1", at(1), lease).await.unwrap(),
        Reservation::InProgress
    );
    assert_eq!(
        store.reserve(&key, "f2", at(1), lease).await.unwrap(),
        Reservation::Mismatch
    );
    // an abandoned reservation is taken over after the lease, under a new nonce
    let taken = store.reserve(&key, "f1", at(6), lease).await.unwrap();
    let taken = ReservedKey {
        key: key.clone(),
        nonce: taken.nonce().expect("taken over"),
    };
    assert_ne!(taken.nonce, first.nonce);
    let resp = ReplayRecord("{\"ok\":true}".into());
    store.complete(&taken, &resp).await.unwrap();
    assert_eq!(
        store.reserve(&key, "f1", at(60), lease).await.unwrap(),
        Reservation::Replay(resp.clone())
    );
    store.release(&taken).await.unwrap(); // completed keys are not released
    assert_eq!(
        store.reserve(&key, "f1", at(61), lease).await.unwrap(),
        Reservation::Replay(resp)
    );
    // after the TTL the key is new again
    assert!(
        store
            .reserve(&key, "f2", at(6 + 24 * 60 + 1), lease)
            .await
            .unwrap()
            .nonce()
            .is_some()
    );
    // concurrent reservations: exactly one wins
    let fresh = IdempotencyKey {
        key: "k2".into(),
        ..key.clone()
    };
    let mut tasks = vec![];
    for _ in 0..20 {
        let s = store.clone();
        let k = fresh.clone();
        tasks.push(tokio::spawn(async move {
            s.reserve(&k, "f", t0, lease).await.unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().nonce().is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn outbox_claims_lease_and_never_double_deliver() {
    let (store, _dir) = file_store("outbox").await;
    let w = world(&store, "outbox").await;
    let t0 = ts("2026-01-01T00:00:00Z");
    for i in 0..10i64 {
        store
            .enqueue(&OutboxMessage {
                id: uuid::Uuid::now_v7().into(),
                organization_id: w.org.id,
                event: "booking.created".into(),
                payload: format!("{{\"n\":{i}}}"),
                created_at: t0.checked_add(SignedDuration::from_secs(i)).unwrap(),
            })
            .await
            .unwrap();
    }
    let lease = SignedDuration::from_secs(30);
    let mut tasks = vec![];
    for _ in 0..5 {
        let s = store.clone();
        tasks.push(tokio::spawn(
            async move { s.claim(t0, lease, 3).await.unwrap() },
        ));
    }
    let mut ids = vec![];
    for t in tasks {
        ids.extend(t.await.unwrap().into_iter().map(|m| m.id));
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (10, 10));
    assert!(store.claim(t0, lease, 10).await.unwrap().is_empty());
    let first = store.pending(w.org.id).await.unwrap()[0].clone();
    store.mark_done(w.org.id, first.id, t0).await.unwrap();
    // after the lease, undone messages come back, oldest first
    let again = store
        .claim(t0.checked_add(lease).unwrap(), lease, 100)
        .await
        .unwrap();
    assert_eq!(again.len(), 9);
    assert!(again.windows(2).all(|p| p[0].created_at <= p[1].created_at));
    assert!(again.iter().all(|m| m.id != first.id));
}

#[tokio::test]
async fn tokens_are_capped_and_named_uniquely_ignoring_case() {
    let (store, _dir) = file_store("pat").await;
    let w = world(&store, "tokens").await;
    let now = ts("2026-01-01T00:00:00Z");
    let pat = |name: String, expires_at: Option<Timestamp>| PersonalAccessToken {
        id: uuid::Uuid::now_v7().into(),
        organization_id: w.org.id,
        user_id: w.host.id,
        lookup: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        name,
        secret_hash: vec![1, 2, 3],
        scopes: domain::access::expand(["bookings:read"]).unwrap(),
        last_four: "abcd".into(),
        expires_at,
        revoked_at: None,
        created_at: now,
    };
    let expired = pat("old".into(), Some(now));
    store.create_pat(&expired, now).await.unwrap();
    let mut made = vec![];
    for i in 0..MAX_ACTIVE_PATS {
        let p = pat(format!("Token {i}"), None);
        store.create_pat(&p, now).await.unwrap();
        made.push(p);
    }
    assert!(matches!(
        store.create_pat(&pat("one more".into(), None), now).await,
        Err(CreatePatError::TooManyActive)
    ));
    assert!(store.revoke_pat(w.org.id, made[0].id, now).await.unwrap());
    assert!(!store.revoke_pat(w.org.id, made[0].id, now).await.unwrap());
    assert!(matches!(
        store.create_pat(&pat("TOKEN 1".into(), None), now).await,
        Err(CreatePatError::NameTaken)
    ));
    store
        .create_pat(&pat("one more".into(), None), now)
        .await
        .unwrap();
    let found = store.find_pat_by_lookup(&made[1].lookup).await.unwrap();
    assert_eq!(found.as_ref(), Some(&made[1]));
    assert_eq!(store.list_pats(w.org.id, None).await.unwrap().len(), 44);
}

struct FixedClock(Timestamp);
impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

struct V7;
impl IdGen for V7 {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}

struct Names;
impl EventEncoder for Names {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        format!("{{\"event\":\"{}\"}}", event.name())
    }
}

#[tokio::test]
async fn fifty_concurrent_create_booking_calls_on_one_slot_book_it_once() {
    let (store, _dir) = file_store("deps").await;
    let w = world(&store, "deps").await;
    let deps = BookingService::over(
        Arc::new(store.clone()),
        Arc::new(FixedClock(ts("2026-01-01T00:00:00Z"))),
        Arc::new(V7),
        Arc::new(Names),
    );
    let start = ts("2026-06-01T09:00:00Z");
    let mut tasks = vec![];
    for i in 0..50 {
        let deps = deps.clone();
        let et = w.event_type.clone();
        tasks.push(tokio::spawn(async move {
            let req = domain::fixtures::booking_draft(start, &format!("guest{i}@example.com"));
            deps.create_booking(&et, req, None).await
        }));
    }
    let mut ok = 0;
    let mut unavailable = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(CreateBookingError::SlotUnavailable { .. }) => unavailable += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, unavailable), (1, 49));
    assert_eq!(store.count_overlapping_bookings().await.unwrap(), 0);
    assert_eq!(store.pending(w.org.id).await.unwrap().len(), 1);
}
