//! `GET /v1/event-types` and `GET /v1/event-types/{idOrSlug}` (§3.3, §3.4), plus the writable
//! additions `POST`, `PATCH`, `DELETE /v1/event-types` (§7.1).

use serde_json::{Value, json};
use testkit::{EventTypeSpec, TestApp, both_backends};

both_backends!(
    list_has_contract_fields_and_default_sort,
    list_sorts,
    list_filters,
    list_pages_with_cursor_and_link,
    list_rejects_bad_query_params,
    get_by_id_returns_detail,
    get_by_username_and_slug,
    get_bare_slug_is_400,
    get_unknown_is_event_type_not_found,
    create_update_delete_event_type,
    update_event_type_preconditions,
    event_type_changes_enqueue_the_detail_shape,
    create_reports_every_failing_field_at_once,
    update_reports_every_failing_field_at_once,
);

/// The names in `details.fields` of a 422.
fn failing_fields(r: &testkit::Resp) -> Vec<String> {
    let d = r.err(422, "validation_error");
    let mut names: Vec<String> = d["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("details.fields object: {}", r.describe()))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("data array")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

fn slugs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("data array")
        .iter()
        .map(|e| e["slug"].as_str().expect("slug").to_owned())
        .collect()
}

const EVENT_TYPE_FIELDS: &[&str] = &[
    "id",
    "slug",
    "title",
    "description",
    "duration_minutes",
    "active",
    "scheduling_type",
    "hosts",
    "url",
    "color",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_hours",
    "future_limit_days",
    "timezone",
    "created_at",
    "updated_at",
];

async fn list_has_contract_fields_and_default_sort(app: TestApp) {
    let r = app.a.api.get("/v1/event-types").await;
    let d = r.ok(200);
    assert_eq!(
        slugs(d),
        vec!["workday-call", "intro-call"],
        "created_at_desc by default"
    );
    assert_eq!(r.meta()["has_more"], false);
    assert!(r.meta()["next_cursor"].is_null(), "{}", r.describe());
    let et = &d[1];
    for f in EVENT_TYPE_FIELDS {
        assert!(et.get(*f).is_some(), "event type lacks {f}: {et}");
    }
    assert_eq!(et["id"], app.a.event_type_id.to_string());
    assert_eq!(et["duration_minutes"], 30);
    assert_eq!(et["active"], true);
    assert_eq!(et["scheduling_type"], "individual");
    assert_eq!(et["hosts"][0]["user_id"], app.a.owner.user_id.to_string());
    assert_eq!(et["hosts"][0]["username"], "alice");
    assert_eq!(et["hosts"][0]["name"], "Alice Tester");
    assert_eq!(et["future_limit_days"], 60);
    assert!(et["color"].as_str().is_some_and(|c| c.starts_with('#')));
    assert!(
        et["url"].is_null()
            || et["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/alice/intro-call")),
        "url is the public booking page: {et}"
    );
    let created = et["created_at"].as_str().expect("created_at");
    assert!(
        created.ends_with('Z') && created.len() == 24,
        "ms UTC: {created}"
    );
    assert!(r.link_next().is_none(), "no Link on a last page");
    // Org B sees only its own.
    let rb = app.b.api.get("/v1/event-types").await;
    let ib = ids(rb.ok(200));
    assert_eq!(ib.len(), 2);
    assert!(!ib.contains(&app.a.event_type_id.to_string()));
}

async fn list_sorts(app: TestApp) {
    for (slug, title) in [
        ("b-call", "Bravo"),
        ("a-call", "Alpha"),
        ("c-call", "Charlie"),
    ] {
        let mut s = EventTypeSpec::individual(slug);
        s.title = title.to_owned();
        app.create_event_type(&app.a, s).await;
    }
    let cases: [(&str, &[&str]); 3] = [
        (
            "title_asc",
            &["a-call", "b-call", "c-call", "intro-call", "workday-call"],
        ),
        (
            "created_at_asc",
            &["intro-call", "workday-call", "b-call", "a-call", "c-call"],
        ),
        (
            "created_at_desc",
            &["c-call", "a-call", "b-call", "workday-call", "intro-call"],
        ),
    ];
    for (sort, want) in cases {
        let r = app.a.api.get(&format!("/v1/event-types?sort={sort}")).await;
        assert_eq!(slugs(r.ok(200)), want, "sort={sort}");
    }
}

async fn list_filters(app: TestApp) {
    let carol = app.create_host(&app.a, "carol").await;
    let rr = app
        .create_event_type(&app.a, EventTypeSpec::collective("team-call", &[&carol]))
        .await;
    app.set_event_type_active(&app.a, app.a.workday_event_type_id, false)
        .await;

    let r = app.a.api.get("/v1/event-types?slug=intro-call").await;
    assert_eq!(slugs(r.ok(200)), vec!["intro-call"]);

    let r = app.a.api.get("/v1/event-types?active=false").await;
    assert_eq!(slugs(r.ok(200)), vec!["workday-call"]);
    assert_eq!(r.data()[0]["active"], false);

    let r = app
        .a
        .api
        .get("/v1/event-types?active=true&sort=created_at_asc")
        .await;
    assert_eq!(slugs(r.ok(200)), vec!["intro-call", "team-call"]);

    let r = app
        .a
        .api
        .get(&format!("/v1/event-types?user_id={}", carol.user_id))
        .await;
    assert_eq!(ids(r.ok(200)), vec![rr.to_string()], "hosted by carol");

    let r = app
        .a
        .api
        .get(&format!(
            "/v1/event-types?user_id={}&sort=created_at_asc",
            app.a.owner.user_id
        ))
        .await;
    let got = slugs(r.ok(200));
    assert!(
        got.starts_with(&["intro-call".to_owned(), "workday-call".to_owned()]),
        "{got:?}"
    );

    let r = app.a.api.get("/v1/event-types?slug=nope").await;
    assert_eq!(r.ok(200).as_array().map(Vec::len), Some(0));
}

async fn list_pages_with_cursor_and_link(app: TestApp) {
    for i in 0..3 {
        app.create_event_type(&app.a, EventTypeSpec::individual(&format!("extra-{i}")))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/event-types?limit=2&sort=created_at_asc".to_owned();
    let mut pages = 0;
    loop {
        let r = app.a.api.get(&path).await;
        let d = r.ok(200).clone();
        pages += 1;
        seen.extend(ids(&d));
        let more = r.meta()["has_more"].as_bool().expect("has_more bool");
        if !more {
            assert!(r.meta()["next_cursor"].is_null(), "{}", r.describe());
            assert!(r.link_next().is_none(), "no Link on the last page");
            break;
        }
        assert_eq!(d.as_array().map(Vec::len), Some(2));
        let cursor = r.meta()["next_cursor"]
            .as_str()
            .expect("next_cursor")
            .to_owned();
        let link = r.link_next().expect("Link rel=next on a page with more");
        assert!(link.contains("cursor="), "Link carries the cursor: {link}");
        // Follow the Link header on even pages and rebuild the URL on odd ones.
        path = if pages % 2 == 0 {
            link.strip_prefix(&app.base_url).unwrap_or(&link).to_owned()
        } else {
            format!("/v1/event-types?limit=2&sort=created_at_asc&cursor={cursor}")
        };
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 5, "no duplicates across pages");
}

async fn list_rejects_bad_query_params(app: TestApp) {
    for (q, param) in [
        ("sort=bogus", "sort"),
        ("active=maybe", "active"),
        ("user_id=not-a-uuid", "user_id"),
        ("cursor=%%%garbage", "cursor"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
    ] {
        let r = app.a.api.get(&format!("/v1/event-types?{q}")).await;
        r.bad_param(param);
        r.rate_limit_headers();
    }
}

async fn get_by_id_returns_detail(app: TestApp) {
    let r = app
        .a
        .api
        .get(&format!("/v1/event-types/{}", app.a.event_type_id))
        .await;
    let d = r.ok(200);
    for f in EVENT_TYPE_FIELDS.iter().chain(&[
        "locations",
        "questions",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "requires_confirmation",
        "allow_reschedule",
        "allow_cancel",
    ]) {
        assert!(d.get(*f).is_some(), "detail lacks {f}: {d}");
    }
    assert!(d["locations"].is_array() && d["questions"].is_array());
    assert_eq!(d["allow_reschedule"], true);
    assert_eq!(d["allow_cancel"], true);
    assert_eq!(d["slug"], "intro-call");
    let head = app
        .a
        .api
        .head(&format!("/v1/event-types/{}", app.a.event_type_id))
        .await;
    head.assert_status(200);
    head.request_id();
    assert!(head.text.is_empty());
}

async fn get_by_username_and_slug(app: TestApp) {
    let r = app
        .a
        .api
        .get(&format!("/v1/event-types/{}", app.a.event_type_path_slug()))
        .await;
    assert_eq!(r.ok(200)["id"], app.a.event_type_id.to_string());
}

async fn get_bare_slug_is_400(app: TestApp) {
    let r = app.a.api.get("/v1/event-types/intro-call").await;
    r.assert_status(400);
    r.request_id();
    assert!(r.code().is_some(), "error envelope: {}", r.describe());
}

async fn get_unknown_is_event_type_not_found(app: TestApp) {
    for path in [
        format!("/v1/event-types/{}", uuid::Uuid::new_v4()),
        "/v1/event-types/alice%2Fno-such-slug".to_owned(),
        "/v1/event-types/nobody%2Fintro-call".to_owned(),
    ] {
        app.a.api.get(&path).await.err(404, "event_type_not_found");
    }
}

async fn create_update_delete_event_type(app: TestApp) {
    let body = json!({
        "slug": "new-call",
        "title": "New call",
        "duration_minutes": 45,
        "hosts": [{"user_id": app.a.owner.user_id}],
    });
    let r = app.a.api.post_json("/v1/event-types", &body, None).await;
    let d = r.ok(201).clone();
    assert_eq!(d["slug"], "new-call");
    assert_eq!(d["duration_minutes"], 45);
    let id = d["id"].as_str().expect("id").to_owned();

    let g = app.a.api.get(&format!("/v1/event-types/{id}")).await;
    assert_eq!(g.ok(200)["title"], "New call");
    assert_eq!(g.etag(), "\"1\"");

    let p = app
        .a
        .api
        .patch_json(
            &format!("/v1/event-types/{id}"),
            &json!({"title": "Renamed"}),
            Some("\"1\""),
            None,
        )
        .await;
    assert_eq!(p.ok(200)["title"], "Renamed");
    assert_eq!(p.etag(), "\"2\"");

    let del = app.a.api.delete(&format!("/v1/event-types/{id}")).await;
    del.assert_status(204);
    del.request_id();
    assert!(del.text.is_empty());
    app.a
        .api
        .get(&format!("/v1/event-types/{id}"))
        .await
        .err(404, "event_type_not_found");
    app.a
        .api
        .delete(&format!("/v1/event-types/{id}"))
        .await
        .err(404, "event_type_not_found");
}

async fn update_event_type_preconditions(app: TestApp) {
    let path = format!("/v1/event-types/{}", app.a.event_type_id);
    let body = json!({"title": "Changed"});
    app.a
        .api
        .patch_json(&path, &body, None, None)
        .await
        .err(428, "missing_if_match");
    app.a
        .api
        .patch_json(&path, &body, Some("nope"), None)
        .await
        .err(400, "invalid_if_match");
    app.a
        .api
        .patch_json(&path, &body, Some("\"7\""), None)
        .await
        .err(409, "version_conflict");
    let g = app.a.api.get(&path).await;
    assert_eq!(g.ok(200)["title"], "Title intro-call", "nothing changed");
    let bad = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"duration_minutes": "long"}),
            Some("W/\"1\""),
            None,
        )
        .await;
    bad.not_5xx();
    assert!(
        matches!(bad.status, 400 | 422),
        "wrong type is rejected: {}",
        bad.describe()
    );
}

/// PATCH and DELETE enqueue `event_type.updated` / `event_type.deleted` outbox messages whose
/// `event_type` is exactly the `GET /v1/event-types/{id}` detail (§4.3, "byte-identical").
async fn event_type_changes_enqueue_the_detail_shape(app: TestApp) {
    let org = domain::ids::OrganizationId(app.a.org_id);
    let path = format!("/v1/event-types/{}", app.a.event_type_id);
    let before = app.store.pending(org).await.unwrap().len();
    app.a
        .api
        .patch_json(&path, &json!({"title": "Renamed"}), Some("\"1\""), None)
        .await
        .ok(200);
    let detail = app.a.api.get(&path).await.ok(200).clone();
    let pending = app.store.pending(org).await.unwrap();
    assert_eq!(pending.len(), before + 1);
    let msg = pending.last().unwrap();
    assert_eq!(msg.event, "event_type.updated");
    let payload: Value = serde_json::from_str(&msg.payload).unwrap();
    assert_eq!(payload, json!({ "event_type": detail }));

    app.a.api.delete(&path).await.assert_status(204);
    let pending = app.store.pending(org).await.unwrap();
    let msg = pending.last().unwrap();
    assert_eq!(msg.event, "event_type.deleted");
    let payload: Value = serde_json::from_str(&msg.payload).unwrap();
    assert_eq!(
        payload,
        json!({ "event_type": detail }),
        "describes the type as it was"
    );
}

async fn create_reports_every_failing_field_at_once(app: TestApp) {
    let body = json!({
        "slug": "Not A Slug!",
        "title": "",
        "duration_minutes": 0,
        "color": "red",
        "scheduling_type": "solo",
        "hosts": [{"user_id": uuid::Uuid::new_v4()}],
    });
    let r = app.a.api.post_json("/v1/event-types", &body, None).await;
    assert_eq!(
        failing_fields(&r),
        vec![
            "color",
            "duration_minutes",
            "hosts",
            "owner_user_id",
            "scheduling_type",
            "slot_interval_minutes",
            "slug",
            "title"
        ],
        "the interval defaults to the (bad) duration: {}",
        r.describe()
    );
    let r = app
        .a
        .api
        .post_json("/v1/event-types", &json!({"color": "red"}), None)
        .await;
    assert_eq!(
        failing_fields(&r),
        vec!["color", "duration_minutes", "hosts", "slug", "title"],
        "required fields and bad values in one 422: {}",
        r.describe()
    );
}

async fn update_reports_every_failing_field_at_once(app: TestApp) {
    let path = format!("/v1/event-types/{}", app.a.event_type_id);
    let before = app.a.api.get(&path).await.ok(200).clone();
    let version = before["version"].as_i64().expect("version");
    let body = json!({
        "slug": "BAD SLUG",
        "color": "#12",
        "scheduling_type": "solo",
        "buffer_before_minutes": 100000,
        "hosts": [{"user_id": uuid::Uuid::new_v4()}],
    });
    let r = app
        .a
        .api
        .patch_json(&path, &body, Some(&format!("\"{version}\"")), None)
        .await;
    assert_eq!(
        failing_fields(&r),
        vec![
            "buffer_before_minutes",
            "color",
            "hosts",
            "scheduling_type",
            "slug"
        ],
        "{}",
        r.describe()
    );
    let after = app.a.api.get(&path).await.ok(200).clone();
    assert_eq!(after["version"], before["version"], "nothing written");
    assert_eq!(after["slug"], before["slug"]);
}
