//! Keyset pagination of bookings and event types: page sizes, every sort order, ties broken by
//! id in the sort's direction, opaque base64url cursors, and stability while rows are inserted
//! between page fetches.

use crate::fixtures::{World, day, millis, mins, ts};
use domain::availability::Schedule;
use domain::booking::Booking;
use domain::event_type::{EventType, SchedulingType};
use domain::ids::OrganizationId;
use domain::organization::User;
use domain::pagination::{Cursor, Limit, Page, PageRequest};
use domain::ports::*;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

fn assert_opaque(cursor: &str) {
    assert!(
        !cursor.is_empty()
            && cursor
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "cursor {cursor:?} is not base64url"
    );
}

fn check_page<T>(page: &Page<T>, limit: Limit) {
    assert!(
        page.items.len() <= limit.get() as usize,
        "page larger than its limit"
    );
    assert_eq!(
        page.has_more,
        page.next_cursor.is_some(),
        "next_cursor iff has_more"
    );
    if page.has_more {
        assert_eq!(
            page.items.len(),
            limit.get() as usize,
            "a non-final page is full"
        );
    }
    if let Some(c) = &page.next_cursor {
        assert_opaque(c);
    }
}

/// The order a booking sort must produce: the key in the sort's direction, then the uid in the
/// same direction.
pub fn booking_order(sort: BookingSort, a: &Booking, b: &Booking) -> Ordering {
    let (key, desc) = match sort {
        BookingSort::StartAtAsc => (a.start.cmp(&b.start), false),
        BookingSort::StartAtDesc => (a.start.cmp(&b.start), true),
        BookingSort::CreatedAtAsc => (a.created_at.cmp(&b.created_at), false),
        BookingSort::CreatedAtDesc => (a.created_at.cmp(&b.created_at), true),
        BookingSort::UpdatedAtAsc => (a.updated_at.cmp(&b.updated_at), false),
        BookingSort::UpdatedAtDesc => (a.updated_at.cmp(&b.updated_at), true),
    };
    let ord = key.then(a.uid.cmp(&b.uid));
    if desc { ord.reverse() } else { ord }
}

fn event_type_order(sort: EventTypeSort, a: &EventType, b: &EventType) -> Ordering {
    match sort {
        EventTypeSort::CreatedAtAsc => a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)),
        EventTypeSort::CreatedAtDesc => a
            .created_at
            .cmp(&b.created_at)
            .then(a.id.cmp(&b.id))
            .reverse(),
        EventTypeSort::TitleAsc => a.title.cmp(&b.title).then(a.id.cmp(&b.id)),
    }
}

/// Walks every page of a booking query; `between` runs after each page that has more.
async fn walk_bookings(
    w: &World,
    org: OrganizationId,
    sort: BookingSort,
    limit: Limit,
    mut between: impl AsyncFnMut(),
) -> Vec<Booking> {
    let mut query = BookingQuery {
        include_cancelled: true,
        sort,
        page: PageRequest { limit, after: None },
        ..BookingQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = w.store.list_bookings(org, &query).await.unwrap();
        check_page(&page, limit);
        out.extend(page.items);
        let Some(c) = page.next_cursor else {
            return out;
        };
        between().await;
        query.page.after = Some(Cursor::decode(&c, sort.as_str()).unwrap());
        assert!(out.len() < 10_000, "pagination does not terminate");
    }
}

async fn walk_event_types(
    w: &World,
    org: OrganizationId,
    sort: EventTypeSort,
    limit: Limit,
) -> Vec<EventType> {
    let mut query = EventTypeQuery {
        sort,
        page: PageRequest { limit, after: None },
        ..EventTypeQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = w.store.list_event_types(org, &query).await.unwrap();
        check_page(&page, limit);
        out.extend(page.items);
        let Some(c) = page.next_cursor else {
            return out;
        };
        query.page.after = Some(Cursor::decode(&c, sort.as_str()).unwrap());
        assert!(out.len() < 10_000, "pagination does not terminate");
    }
}

/// Five hosts with one event type each.
async fn five_hosts(w: &World) -> (OrganizationId, Vec<(User, Schedule, EventType)>) {
    let org = w.create_organization("acme").await;
    let mut hosts = Vec::new();
    for h in 0..5 {
        let (u, s) = w.create_host(&org, &format!("host{h}")).await;
        let et = w
            .create_event_type(w.event_type(&[(&u, &s)], SchedulingType::Individual, "meet"))
            .await;
        hosts.push((u, s, et));
    }
    (org.id, hosts)
}

/// `per_host` bookings for each host, with many equal starts, creation and update instants, and
/// uids whose order differs from the insertion order. Returns them all.
async fn seed_bookings(
    w: &World,
    hosts: &[(User, Schedule, EventType)],
    per_host: i64,
) -> Vec<Booking> {
    let base = ts("2026-01-20T00:00:00Z");
    let mut by_host: Vec<Vec<Booking>> = vec![Vec::new(); hosts.len()];
    let mut i = 0;
    for k in 0..per_host {
        // Generated (so uid-ordered) from the last host to the first: the opposite of inserts.
        for (h, (u, _, et)) in hosts.iter().enumerate().rev() {
            let mut b = w.booking(et, u.id, day(1) + mins(30 * k));
            b.created_at = base + millis(i % 4);
            b.updated_at = base + millis((i * 7) % 5);
            by_host[h].push(b);
            i += 1;
        }
    }
    for bs in &by_host {
        w.insert_all(bs).await;
    }
    by_host.concat()
}

/// Default page size is 20, the maximum 100 (larger limits are clamped by [`Limit`]).
pub async fn page_size_defaults_to_20_and_caps_at_100(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let (org, hosts) = five_hosts(&w).await;
    let all = seed_bookings(&w, &hosts, 21).await;
    assert_eq!(all.len(), 105);

    let page = w
        .store
        .list_bookings(org, &BookingQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 20);
    assert!(page.has_more && page.next_cursor.is_some());

    let big = BookingQuery {
        page: PageRequest {
            limit: Limit::new(1000).unwrap(),
            after: None,
        },
        ..BookingQuery::default()
    };
    let page = w.store.list_bookings(org, &big).await.unwrap();
    assert_eq!(page.items.len(), 100);
    assert!(page.has_more);

    let walked = walk_bookings(
        &w,
        org,
        BookingSort::default(),
        Limit::default(),
        async || {},
    )
    .await;
    assert_eq!(walked.len(), 105);

    // Exactly `limit` rows left: the page is full and says there is no more.
    let exact = BookingQuery {
        page: PageRequest {
            limit: Limit::new(105).unwrap(),
            after: None,
        },
        ..BookingQuery::default()
    };
    let page = w.store.list_bookings(org, &exact).await.unwrap();
    assert_eq!(page.items.len(), 100, "105 is clamped to 100");
    let walked = walk_bookings(
        &w,
        org,
        BookingSort::StartAtAsc,
        Limit::new(35).unwrap(),
        async || {},
    )
    .await;
    assert_eq!(walked.len(), 105);
}

/// Every booking sort, walked with several page sizes, yields every row exactly once in order,
/// equal keys ordered by uid.
pub async fn every_booking_sort_walks_all_rows_in_order(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let (org, hosts) = five_hosts(&w).await;
    let all = seed_bookings(&w, &hosts, 10).await;
    for sort in BookingSort::ALL {
        let mut expected = all.clone();
        expected.sort_by(|a, b| booking_order(sort, a, b));
        let expected: Vec<_> = expected.iter().map(|b| b.uid).collect();
        for limit in [1, 7, 49, 50, 100] {
            let walked =
                walk_bookings(&w, org, sort, Limit::new(limit).unwrap(), async || {}).await;
            let walked: Vec<_> = walked.iter().map(|b| b.uid).collect();
            assert_eq!(walked, expected, "sort {} limit {limit}", sort.as_str());
        }
    }
}

/// Rows inserted between page fetches never repeat a row already returned and never cause one to
/// be skipped: rows sorting before the cursor are not returned, rows after it are.
pub async fn booking_pages_are_stable_under_inserts(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let (org, hosts) = five_hosts(&w).await;
    seed_bookings(&w, &hosts, 8).await;
    let (u, _, et) = &hosts[0];
    let mut n = 0i64;
    for sort in BookingSort::ALL {
        let initial = w.every_booking(org).await;
        let inserted = std::cell::RefCell::new(Vec::<Booking>::new());
        let walked = walk_bookings(&w, org, sort, Limit::new(6).unwrap(), async || {
            n += 1;
            let mut early = w.booking(et, u.id, day(0) - mins(30 * n));
            early.created_at = ts("2025-06-01T00:00:00Z") - millis(n);
            early.updated_at = early.created_at;
            let mut late = w.booking(et, u.id, day(30) + mins(30 * n));
            late.created_at = ts("2026-06-01T00:00:00Z") + millis(n);
            late.updated_at = late.created_at;
            w.insert_all(&[early.clone(), late.clone()]).await;
            inserted.borrow_mut().extend([early, late]);
        })
        .await;
        let inserted = inserted.into_inner();
        assert!(!inserted.is_empty());
        // The rows after the cursor: for ascending sorts the late ones, else the early ones.
        let first = &walked[0];
        let mut expected: Vec<Booking> = initial;
        expected.extend(
            inserted
                .into_iter()
                .filter(|b| booking_order(sort, first, b) == Ordering::Less),
        );
        expected.sort_by(|a, b| booking_order(sort, a, b));
        let uids = |bs: &[Booking]| bs.iter().map(|b| b.uid).collect::<Vec<_>>();
        assert_eq!(uids(&walked), uids(&expected), "sort {}", sort.as_str());
        let distinct: BTreeSet<_> = walked.iter().map(|b| b.uid).collect();
        assert_eq!(distinct.len(), walked.len(), "a row repeated");
    }
}

/// Every event type sort yields every row exactly once in order, ties ordered by id.
pub async fn every_event_type_sort_walks_all_rows_in_order(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let mut owners = Vec::new();
    for o in 0..4 {
        owners.push(w.create_host(&org, &format!("owner{o}")).await);
    }
    let base = ts("2026-01-20T00:00:00Z");
    let mut all = Vec::new();
    for i in 0..42i64 {
        let (u, s) = &owners[(i % 4) as usize];
        let mut et = w.event_type(&[(u, s)], SchedulingType::Individual, &format!("et-{i}"));
        et.title = format!("Meeting {:03}", (i * 5) % 9);
        et.created_at = base + millis(i % 6);
        et.updated_at = et.created_at;
        all.push(et);
    }
    for et in all.iter().rev() {
        w.store.create_event_type(et).await.unwrap();
    }
    for sort in [
        EventTypeSort::CreatedAtDesc,
        EventTypeSort::CreatedAtAsc,
        EventTypeSort::TitleAsc,
    ] {
        let mut expected = all.clone();
        expected.sort_by(|a, b| event_type_order(sort, a, b));
        for limit in [1, 5, 20, 42, 100] {
            let walked = walk_event_types(&w, org.id, sort, Limit::new(limit).unwrap()).await;
            assert_eq!(walked, expected, "sort {} limit {limit}", sort.as_str());
        }
    }
    let first = w
        .store
        .list_event_types(org.id, &EventTypeQuery::default())
        .await
        .unwrap();
    assert_eq!(first.items.len(), 20, "default limit");
    assert_eq!(
        first.items[0],
        *all.iter()
            .max_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
            .unwrap(),
        "the default sort is created_at_desc"
    );
}
