//! `GET /v1/bookings` (§3.7, §2.7, §6.1.8–9): every filter, every sort, cursor pages with
//! `Link: rel="next"`, and refusal of malformed filters.

use jiff::SignedDuration;
use serde_json::{Value, json};
use std::collections::HashSet;
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{EventTypeSpec, TestApp, both_backends, key};

both_backends!(
    list_filters_and_sorts,
    list_walks_pages_with_cursor_and_link,
    list_rejects_malformed_filters,
);

/// The uids of a list response, in order.
fn uids(r: &testkit::Resp) -> Vec<String> {
    r.ok(200)
        .as_array()
        .unwrap_or_else(|| panic!("data array: {}", r.describe()))
        .iter()
        .map(|b| b["uid"].as_str().expect("uid").to_owned())
        .collect()
}

fn set(v: &[&String]) -> HashSet<String> {
    v.iter().map(|s| (*s).clone()).collect()
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let r = app
        .a
        .api
        .get(&format!("/v1/bookings?limit=100&{query}"))
        .await;
    uids(&r)
}

async fn list_set(app: &TestApp, query: &str) -> HashSet<String> {
    list(app, query).await.into_iter().collect()
}

async fn list_filters_and_sorts(app: TestApp) {
    let tick = || app.clock.advance(SignedDuration::from_secs(1));
    let day = days_after(BERLIN, app.now(), 1);
    let t = |hhmm: &str| at(BERLIN, day, hhmm);
    let intro = app.a.event_type_id;
    let other = app
        .create_event_type(&app.a, EventTypeSpec::individual("other-call"))
        .await;
    let carol = app.create_host(&app.a, "carol").await;
    let carols = app
        .create_event_type(&app.a, EventTypeSpec::collective("carol-call", &[&carol]))
        .await;
    let uid = |v: &Value| v["uid"].as_str().expect("uid").to_owned();

    let with_responses = json!({
        "event_type_id": intro,
        "start": wire(t("10:00")),
        "attendee": {"email": "ann@example.com"},
        "responses": {"q": "a"},
    });
    let b1 = uid(app
        .a
        .api
        .post_json("/v1/bookings", &with_responses, Some(&key()))
        .await
        .ok(201));
    tick();
    let b2 = uid(&app
        .book_as(&app.a, intro, t("11:00"), "Bob@Example.com")
        .await);
    tick();
    let b3 = uid(&app
        .book_as(&app.a, other, t("12:00"), "cat@example.com")
        .await);
    tick();
    let b4 = uid(&app
        .book_as(&app.a, carols, t("13:00"), "dan@example.com")
        .await);
    tick();
    let b5 = uid(&app
        .book_as(&app.a, intro, t("14:00"), "eve@example.com")
        .await);
    tick();
    let b6 = uid(&app
        .book_as(&app.a, intro, t("15:00"), "fay@example.com")
        .await);
    tick();
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{b5}/cancel"),
            &json!({}),
            Some(&key()),
        )
        .await
        .ok(200);
    tick();
    let b7 = uid(app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{b6}/reschedule"),
            &json!({"start": wire(t("16:00"))}),
            Some(&key()),
        )
        .await
        .ok(200));
    tick();
    let since = app.now();
    app.a
        .api
        .patch_json(
            &format!("/v1/bookings/{b1}"),
            &json!({"metadata": {"touched": "yes"}}),
            Some("\"1\""),
            Some(&key()),
        )
        .await
        .ok(200);
    let all = set(&[&b1, &b2, &b3, &b4, &b5, &b6, &b7]);

    // Lists carry `responses: null`; the single read carries them.
    let r = app.a.api.get("/v1/bookings?limit=100").await;
    for b in r.ok(200).as_array().expect("array") {
        assert!(b["responses"].is_null(), "responses in a list: {b}");
    }

    // Default: every status, start_at_desc.
    assert_eq!(
        list(&app, "").await,
        vec![&b7, &b6, &b5, &b4, &b3, &b2, &b1]
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        list(&app, "sort=start_at_asc").await,
        vec![&b1, &b2, &b3, &b4, &b5, &b6, &b7]
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
    );
    let by_created = [&b1, &b2, &b3, &b4, &b5, &b6, &b7];
    let asc = list(&app, "sort=created_at_asc").await;
    assert_eq!(
        asc,
        by_created.iter().map(|s| (*s).clone()).collect::<Vec<_>>()
    );
    let mut desc = list(&app, "sort=created_at_desc").await;
    desc.reverse();
    assert_eq!(desc, asc);
    // updated_at sorts: monotonic in updated_at, and the PATCHed b1 is the latest.
    for (sort, ascending) in [("updated_at_asc", true), ("updated_at_desc", false)] {
        let r = app
            .a
            .api
            .get(&format!("/v1/bookings?limit=100&sort={sort}"))
            .await;
        let items = r.ok(200).as_array().expect("array").clone();
        let stamps: Vec<String> = items
            .iter()
            .map(|b| b["updated_at"].as_str().expect("updated_at").to_owned())
            .collect();
        let mut sorted = stamps.clone();
        sorted.sort();
        if !ascending {
            sorted.reverse();
        }
        assert_eq!(stamps, sorted, "sort={sort}");
        let latest = if ascending {
            items.last()
        } else {
            items.first()
        };
        assert_eq!(
            latest.map(|b| b["uid"].clone()),
            Some(json!(b1)),
            "sort={sort}"
        );
    }

    // Filters.
    assert_eq!(
        list_set(&app, &format!("event_type_id={intro}")).await,
        set(&[&b1, &b2, &b5, &b6, &b7])
    );
    assert_eq!(
        list_set(&app, &format!("host_user_id={}", carol.user_id)).await,
        set(&[&b4])
    );
    let alice = app.a.owner.user_id;
    let carol_id = carol.user_id;
    assert_eq!(
        list_set(&app, &format!("host_user_ids={carol_id},{alice}")).await,
        all
    );
    assert_eq!(
        list_set(
            &app,
            &format!("host_user_ids={carol_id}&host_user_ids={alice}")
        )
        .await,
        all
    );
    assert_eq!(
        list_set(
            &app,
            &format!("host_user_id={alice}&host_user_ids={carol_id}")
        )
        .await,
        set(&[&b4]),
        "host_user_ids supersedes host_user_id"
    );
    assert_eq!(
        list_set(&app, "attendee_email=Bob%40Example.com").await,
        set(&[&b2])
    );
    assert!(
        list_set(&app, "attendee_email=bob%40example.com")
            .await
            .is_empty(),
        "attendee_email is case-sensitive"
    );
    assert_eq!(
        list_set(&app, "status=confirmed").await,
        set(&[&b1, &b2, &b3, &b4, &b7])
    );
    assert_eq!(list_set(&app, "status=canceled").await, set(&[&b5]));
    assert_eq!(list_set(&app, "status=cancelled").await, set(&[&b5]));
    assert_eq!(list_set(&app, "status=rescheduled").await, set(&[&b6]));
    assert_eq!(
        list_set(&app, "status=canceled,rescheduled").await,
        set(&[&b5, &b6])
    );
    let without = list_set(&app, "include_cancelled=false").await;
    assert!(
        !without.contains(&b5) && without.contains(&b1),
        "{without:?}"
    );
    assert_eq!(
        list_set(&app, "include_cancelled=false&status=canceled").await,
        set(&[&b5]),
        "include_cancelled is ignored when status is given"
    );
    assert_eq!(list_set(&app, "include_cancelled=true").await, all);
    assert_eq!(
        list_set(
            &app,
            &format!(
                "start_date={}&end_date={}",
                wire(t("11:00")),
                wire(t("14:00"))
            )
        )
        .await,
        set(&[&b2, &b3, &b4, &b5]),
        "both bounds inclusive"
    );
    assert_eq!(
        list(
            &app,
            &format!("updated_since={}&sort=updated_at_asc", wire(since))
        )
        .await,
        vec![b1.clone()]
    );
    // Org B sees none of them.
    let rb = app.b.api.get("/v1/bookings").await;
    assert!(uids(&rb).is_empty());
}

async fn list_walks_pages_with_cursor_and_link(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 2);
    let mut made = Vec::new();
    for (i, hhmm) in ["09:00", "09:30", "10:00", "10:30", "11:00"]
        .iter()
        .enumerate()
    {
        let b = app
            .book_as(
                &app.a,
                app.a.event_type_id,
                at(BERLIN, day, hhmm),
                &format!("p{i}@example.com"),
            )
            .await;
        made.push(b["uid"].as_str().expect("uid").to_owned());
    }
    // A booking of another event type that the filter must keep out of every page.
    let other = app
        .create_event_type(&app.a, EventTypeSpec::individual("other-call"))
        .await;
    app.book(&app.a, other, at(BERLIN, day, "12:00")).await;

    let filter = format!("event_type_id={}&sort=start_at_asc", app.a.event_type_id);
    let mut path = format!("/v1/bookings?limit=2&{filter}");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = app.a.api.get(&path).await;
        pages += 1;
        seen.extend(uids(&r));
        r.rate_limit_headers();
        if r.meta()["has_more"] == false {
            assert!(r.meta()["next_cursor"].is_null(), "{}", r.describe());
            assert!(r.link_next().is_none());
            break;
        }
        assert_eq!(r.meta()["has_more"], true, "{}", r.describe());
        let cursor = r.meta()["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("next_cursor: {}", r.describe()))
            .to_owned();
        let link = r.link_next().expect("Link rel=next");
        path = if pages == 1 {
            let rel = link.strip_prefix(&app.base_url).unwrap_or(&link).to_owned();
            assert!(rel.starts_with("/v1/bookings?"), "{link}");
            rel
        } else {
            format!("/v1/bookings?limit=2&{filter}&cursor={cursor}")
        };
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "every booking once, in order, filter kept");
}

async fn list_rejects_malformed_filters(app: TestApp) {
    for (q, param) in [
        ("status=bogus", "status"),
        ("sort=bogus", "sort"),
        ("event_type_id=x", "event_type_id"),
        ("host_user_id=x", "host_user_id"),
        ("host_user_ids=x", "host_user_ids"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-99-99", "end_date"),
        ("updated_since=x", "updated_since"),
        ("include_cancelled=maybe", "include_cancelled"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor!", "cursor"),
    ] {
        app.a
            .api
            .get(&format!("/v1/bookings?{q}"))
            .await
            .bad_param(param);
    }
    app.a.api.get("/v1/bookings?limit=1000").await.ok(200);
    app.a.api.get("/v1/bookings?limit=100").await.ok(200);
    app.a.api.get("/v1/bookings?limit=1").await.ok(200);
}
