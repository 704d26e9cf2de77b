//! Membership and role at request time for OAuth tokens (issue 14, issue 17 item 8), the same
//! rules as for personal access tokens (`auth.rs`): a removed user's access token is refused on
//! its very next request and the refresh grant answers `invalid_grant`; a user who lost the
//! owner or admin role keeps reads and booking writes but loses organization-wide writes (event
//! types, other users' schedules: `403 forbidden`) at the next request, and gets them back when
//! promoted again. Every change is written by the admin functions, as another process would:
//! the server is not told.

use domain::organization::Role;
use serde_json::{Value, json};
use testkit::{EventTypeSpec, TestApp, both_backends};

both_backends!(
    a_removed_users_oauth_tokens_are_refused_at_once,
    a_lost_role_ends_organization_wide_writes_for_oauth_tokens,
);

/// `POST /v1/oauth/token` with `grant_type=refresh_token` for a public client.
pub(crate) async fn refresh(app: &TestApp, client_id: &str, refresh: &str) -> (u16, Value) {
    let r = crate::oauth::http()
        .post(format!("{}/v1/oauth/token", app.base_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn a_removed_users_oauth_tokens_are_refused_at_once(app: TestApp) {
    let zoe = app.create_host(&app.a, "zoe").await;
    let t = app
        .oauth_tokens(&app.a, zoe.user_id, &["user:read", "bookings:read"])
        .await;
    let api = app.client(&t.access);
    api.get("/v1/_ping").await.ok(200);
    api.get("/v1/me").await.ok(200);
    // A refresh while the user is a member works (and rotates).
    let (status, body) = refresh(&app, &t.client_id, &t.refresh).await;
    assert_eq!(status, 200, "{body}");
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    app.client(&access2).get("/v1/_ping").await.ok(200);

    app.remove_user(&app.a, zoe.user_id).await;
    // The very next request of every access token of the user is refused, like a PAT's.
    for token in [&t.access, &access2] {
        let r = app.client(token).get("/v1/_ping").await;
        r.err(401, "invalid_token");
        assert!(
            r.header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Bearer realm=\"42min\", error=\"invalid_token\""),
            "{}",
            r.describe()
        );
        app.client(token)
            .get("/v1/bookings")
            .await
            .err(401, "invalid_token");
    }
    // The refresh grant is refused with the RFC's error.
    let (status, body) = refresh(&app, &t.client_id, &refresh2).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    // Other users' tokens are unaffected.
    app.a.api.get("/v1/_ping").await.ok(200);
    let other = app
        .oauth_tokens(&app.a, app.a.owner.user_id, &["user:read"])
        .await;
    app.client(&other.access).get("/v1/me").await.ok(200);
}

async fn a_lost_role_ends_organization_wide_writes_for_oauth_tokens(app: TestApp) {
    let zoe = app.create_host(&app.a, "zoe").await;
    let et = app
        .create_event_type(&app.a, EventTypeSpec::individual("team-call"))
        .await;
    let t = app
        .oauth_tokens(
            &app.a,
            zoe.user_id,
            &[
                "event_types:read",
                "event_types:update",
                "availability:write",
                "availability:read",
            ],
        )
        .await;
    let api = app.client(&t.access);
    let patch = |title: &'static str, version: &'static str| {
        let api = api.clone();
        async move {
            api.patch_json(
                &format!("/v1/event-types/{et}"),
                &json!({"title": title}),
                Some(version),
                None,
            )
            .await
        }
    };
    patch("Owner edit", "\"1\"").await.ok(200);

    app.set_role(&app.a, zoe.user_id, Role::Member).await;
    let r = patch("Member edit", "\"2\"").await;
    r.err(403, "forbidden");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("owners and admins"),
        "{}",
        r.describe()
    );
    // Nothing changed; reads and the member's own schedule still work.
    let got = api.get(&format!("/v1/event-types/{et}")).await;
    assert_eq!(got.ok(200)["title"], "Owner edit");
    api.post_json(
        "/v1/schedules",
        &json!({"name": "Mine", "timezone": "Europe/Berlin",
                "rules": [{"days": ["mon"], "start": "09:00", "end": "10:00"}], "overrides": []}),
        None,
    )
    .await
    .ok(201);
    // Promoted again: the next request may write.
    app.set_role(&app.a, zoe.user_id, Role::Admin).await;
    patch("Admin edit", "\"2\"").await.ok(200);
}
