//! Optimistic locking on bookings (§2.9, §6.1.6): `ETag` on GET and PATCH, `If-Match` required,
//! malformed and stale validators, weak form, version bumps by cancel and reschedule, and
//! concurrent PATCHes on one version.

use serde_json::json;
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends, key};

both_backends!(
    patch_requires_if_match,
    malformed_if_match_is_invalid_if_match,
    stale_if_match_is_version_conflict,
    etag_follows_every_change,
    concurrent_patches_on_one_version_one_wins,
);

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

async fn booking(app: &TestApp) -> String {
    let b = app
        .book(&app.a, app.a.event_type_id, tomorrow(app, "10:00"))
        .await;
    b["uid"].as_str().expect("uid").to_owned()
}

async fn patch_requires_if_match(app: TestApp) {
    let uid = booking(&app).await;
    let r = app
        .a
        .api
        .patch_json(
            &format!("/v1/bookings/{uid}"),
            &json!({"metadata": {"a": "1"}}),
            None,
            Some(&key()),
        )
        .await;
    r.err(428, "missing_if_match");
    r.rate_limit_headers();
    assert_eq!(app.get_booking(&app.a, &uid).await["version"], 1);
}

async fn malformed_if_match_is_invalid_if_match(app: TestApp) {
    let uid = booking(&app).await;
    for bad in [
        "abc",
        "\"abc\"",
        "\"1.5\"",
        "*",
        "\"\"",
        "W/abc",
        "\"1\", \"2\"",
    ] {
        let r = app
            .a
            .api
            .patch_json(
                &format!("/v1/bookings/{uid}"),
                &json!({"metadata": {"a": "1"}}),
                Some(bad),
                Some(&key()),
            )
            .await;
        r.err(400, "invalid_if_match");
    }
    assert_eq!(app.get_booking(&app.a, &uid).await["version"], 1);
}

async fn stale_if_match_is_version_conflict(app: TestApp) {
    let uid = booking(&app).await;
    let path = format!("/v1/bookings/{uid}");
    app.a
        .api
        .patch_json(
            &path,
            &json!({"metadata": {"a": "1"}}),
            Some("\"1\""),
            Some(&key()),
        )
        .await
        .ok(200);
    for stale in ["\"1\"", "W/\"1\"", "\"3\""] {
        let r = app
            .a
            .api
            .patch_json(
                &path,
                &json!({"metadata": {"a": "2"}}),
                Some(stale),
                Some(&key()),
            )
            .await;
        r.err(409, "version_conflict");
        assert_eq!(
            r.body["error"]["message"],
            "The If-Match version does not match the current booking version"
        );
    }
    let g = app.get_booking(&app.a, &uid).await;
    assert_eq!(g["version"], 2);
    assert_eq!(g["metadata"]["a"], "1", "the stale patch was not applied");
}

async fn etag_follows_every_change(app: TestApp) {
    let uid = booking(&app).await;
    let path = format!("/v1/bookings/{uid}");
    let g = app.a.api.get(&path).await;
    assert_eq!(g.etag(), "\"1\"");
    let p = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"responses": {"q": "a"}}),
            Some("W/\"1\""),
            Some(&key()),
        )
        .await;
    assert_eq!(p.etag(), "\"2\"");
    assert_eq!(p.ok(200)["version"], 2);
    let r = app
        .a
        .api
        .post_json(
            &format!("{path}/reschedule"),
            &json!({"start": wire(tomorrow(&app, "12:00"))}),
            Some(&key()),
        )
        .await;
    let new_uid = r.ok(200)["uid"].as_str().expect("uid").to_owned();
    let g = app.a.api.get(&path).await;
    assert_eq!(g.etag(), "\"3\"", "reschedule bumps the old booking");
    assert_eq!(g.ok(200)["version"], 3);
    let n = app.a.api.get(&format!("/v1/bookings/{new_uid}")).await;
    assert_eq!(n.etag(), "\"1\"");
    let c = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{new_uid}/cancel"),
            &json!({}),
            Some(&key()),
        )
        .await;
    assert_eq!(c.ok(200)["version"], 2, "cancel bumps");
    let n = app.a.api.get(&format!("/v1/bookings/{new_uid}")).await;
    assert_eq!(n.etag(), "\"2\"");
}

async fn concurrent_patches_on_one_version_one_wins(app: TestApp) {
    let uid = booking(&app).await;
    let path = format!("/v1/bookings/{uid}");
    let futures = (0..6).map(|i| {
        let api = app.a.api.clone();
        let path = path.clone();
        async move {
            api.patch_json(
                &path,
                &json!({"metadata": {"writer": i.to_string()}}),
                Some("\"1\""),
                Some(&key()),
            )
            .await
        }
    });
    let results = futures::future::join_all(futures).await;
    let wins = results.iter().filter(|r| r.status == 200).count();
    for r in results.iter().filter(|r| r.status != 200) {
        r.err(409, "version_conflict");
    }
    assert_eq!(wins, 1);
    assert_eq!(app.get_booking(&app.a, &uid).await["version"], 2);
}
