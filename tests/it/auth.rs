//! Bearer authentication on `/v1/*` (§2.2, §6.2): missing, malformed, unknown, expired and
//! revoked tokens are 401 with the contract's `WWW-Authenticate`; tokens are accepted only in
//! the `Authorization` header; a removed user's token and a lost role take effect within the
//! authentication cache's bound, the same as a revocation's, and at once when the server is told
//! (the OAuth side, never cached, at once: `oauth_membership.rs`).

use jiff::SignedDuration;
use reqwest::Method;
use testkit::time::days;
use testkit::{AUTH_CACHE_TTL, Resp, TestApp, both_backends};

both_backends!(
    missing_malformed_and_unknown_tokens_are_invalid_token,
    wrong_secret_is_invalid_token,
    expired_token_is_token_expired,
    revoked_token_is_token_revoked,
    revocation_without_cache_invalidation_takes_effect_within_the_ttl,
    token_in_query_is_not_accepted,
    authentication_precedes_scope_and_lookup,
    a_removed_users_pat_is_refused_within_the_cache_bound,
    a_lost_role_ends_organization_wide_writes_within_the_cache_bound,
);

#[track_caller]
fn assert_401(r: &Resp, code: &str) {
    r.err(401, code);
    // RFC 9728: the challenge names the protected resource metadata (exact value in oauth.rs).
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let prefix =
        format!("Bearer realm=\"42min\", error=\"{code}\", resource_metadata=\"http://127.0.0.1:");
    assert!(
        challenge.starts_with(&prefix)
            && challenge.ends_with("/.well-known/oauth-protected-resource\""),
        "{challenge}: {}",
        r.describe()
    );
    r.rate_limit_headers();
}

async fn missing_malformed_and_unknown_tokens_are_invalid_token(app: TestApp) {
    assert_401(&app.anon().get("/v1/_ping").await, "invalid_token");
    let cases: &[&str] = &[
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Basic YWxpY2U6c2VjcmV0",
        "bearer-ish 42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJK",
        "Bearer 42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJK",
        "Bearer 42min_at_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJK",
        "Bearer 42min_pat_short",
    ];
    for auth in cases {
        let r = app
            .anon()
            .request(Method::GET, "/v1/_ping", &[("authorization", auth)], None)
            .await;
        assert_401(&r, "invalid_token");
    }
    // Every /v1 route is protected, writes included.
    assert_401(&app.anon().get("/v1/bookings").await, "invalid_token");
    assert_401(
        &app.anon()
            .post_json("/v1/bookings", &serde_json::json!({}), Some("k"))
            .await,
        "invalid_token",
    );
}

async fn wrong_secret_is_invalid_token(app: TestApp) {
    let t = &app.a.token.token;
    // Same lookup id, different secret of the same length.
    let (head, secret) = t.split_at(t.len() - 32);
    let flipped: String = secret
        .chars()
        .map(|c| if c == 'A' { 'B' } else { 'A' })
        .collect();
    let forged = format!("{head}{flipped}");
    assert_401(&app.client(&forged).get("/v1/_ping").await, "invalid_token");
    app.a.api.get("/v1/_ping").await.ok(200);
}

async fn expired_token_is_token_expired(app: TestApp) {
    let t = app.mint_token(&app.a, &["user:read"], Some(42)).await;
    let c = app.client(&t.token);
    c.get("/v1/me").await.ok(200);
    app.clock.advance(days(41));
    c.get("/v1/me").await.ok(200);
    app.clock.advance(days(2));
    assert_401(&c.get("/v1/me").await, "token_expired");
    assert_401(&c.get("/v1/_ping").await, "token_expired");
    app.a.api.get("/v1/_ping").await.ok(200);
}

async fn revoked_token_is_token_revoked(app: TestApp) {
    let t = app.mint_token(&app.a, &["user:read"], None).await;
    let c = app.client(&t.token);
    c.get("/v1/me").await.ok(200);
    app.revoke_token(&app.a, &t).await;
    assert_401(&c.get("/v1/me").await, "token_revoked");
    assert_401(&c.get("/v1/_ping").await, "token_revoked");
    app.a.api.get("/v1/me").await.ok(200);
}

/// The documented bound of the authentication cache: a revocation written to the store without
/// invalidating the server's cache (the admin CLI, another process) is honoured once
/// `AUTH_CACHE_TTL` of the server's clock has passed since the token last authenticated.
async fn revocation_without_cache_invalidation_takes_effect_within_the_ttl(app: TestApp) {
    let t = app.mint_token(&app.a, &["user:read"], None).await;
    let c = app.client(&t.token);
    c.get("/v1/_ping").await.ok(200);
    app.revoke_token_without_invalidation(&app.a, &t).await;
    // Still cached: accepted right after the revocation and until just before the TTL ends.
    c.get("/v1/_ping").await.ok(200);
    app.clock
        .advance(AUTH_CACHE_TTL - SignedDuration::from_millis(1));
    c.get("/v1/me").await.ok(200);
    // The TTL has passed: the store is read again and the revocation shows.
    app.clock.advance(SignedDuration::from_millis(1));
    assert_401(&c.get("/v1/_ping").await, "token_revoked");
    assert_401(&c.get("/v1/me").await, "token_revoked");
    // A failure is not cached in place of the row: it stays revoked, and other tokens work.
    app.clock.advance(AUTH_CACHE_TTL);
    assert_401(&c.get("/v1/_ping").await, "token_revoked");
    app.a.api.get("/v1/me").await.ok(200);
}

async fn token_in_query_is_not_accepted(app: TestApp) {
    let t = &app.a.token.token;
    assert_401(
        &app.anon().get(&format!("/v1/_ping?access_token={t}")).await,
        "invalid_token",
    );
}

async fn authentication_precedes_scope_and_lookup(app: TestApp) {
    for path in [
        "/v1/me".to_owned(),
        format!("/v1/bookings/{}", uuid::Uuid::new_v4()),
        format!("/v1/event-types/{}", uuid::Uuid::new_v4()),
    ] {
        assert_401(&app.anon().get(&path).await, "invalid_token");
    }
}

/// The cache keeps the token row with its user's role: removing the user through the admin
/// function, as another process would (the server's cache not told), refuses the token once
/// `AUTH_CACHE_TTL` of the server's clock has passed since it last authenticated — the bound
/// the CLI help states for revocations, removals and role changes alike.
async fn a_removed_users_pat_is_refused_within_the_cache_bound(app: TestApp) {
    let zoe = app.create_host(&app.a, "zoe").await;
    let t = app
        .mint_token_for(&app.a, zoe.user_id, &["user:read"], None)
        .await;
    let c = app.client(&t.token);
    c.get("/v1/_ping").await.ok(200);
    c.get("/v1/me").await.ok(200);
    app.remove_user(&app.a, zoe.user_id).await;
    app.clock.advance(AUTH_CACHE_TTL);
    assert_401(&c.get("/v1/_ping").await, "invalid_token");
    assert_401(&c.get("/v1/me").await, "invalid_token");
    // Not cached as a failure: it stays refused.
    app.clock.advance(AUTH_CACHE_TTL);
    assert_401(&c.get("/v1/_ping").await, "invalid_token");
    app.a.api.get("/v1/me").await.ok(200);
}

/// A token of a user demoted to member makes no organization-wide write — `403 forbidden`,
/// nothing changed — at once when the server's cache is told, while reads and booking writes
/// go on; promoted again through the admin function only (the server not told), it writes
/// again once `AUTH_CACHE_TTL` of the server's clock has passed.
async fn a_lost_role_ends_organization_wide_writes_within_the_cache_bound(app: TestApp) {
    use domain::organization::Role;
    use serde_json::json;
    let zoe = app.create_host(&app.a, "zoe").await;
    let et = app
        .create_event_type(&app.a, testkit::EventTypeSpec::individual("team-call"))
        .await;
    let t = app
        .mint_token_for(
            &app.a,
            zoe.user_id,
            &[
                "event_types:read",
                "event_types:write",
                "availability:write",
            ],
            None,
        )
        .await;
    let c = app.client(&t.token);
    let path = format!("/v1/event-types/{et}");
    c.patch_json(&path, &json!({"title": "Owner edit"}), Some("\"1\""), None)
        .await
        .ok(200);
    app.set_role(&app.a, zoe.user_id, Role::Member).await;
    app.auth_cache.invalidate_all();
    let r = c
        .patch_json(&path, &json!({"title": "Member edit"}), Some("\"2\""), None)
        .await;
    r.err(403, "forbidden");
    r.rate_limit_headers();
    c.delete(&path).await.err(403, "forbidden");
    let created = c
        .post_json(
            "/v1/event-types",
            &json!({"slug": "member-made", "title": "M", "duration_minutes": 30,
                    "hosts": [{"user_id": zoe.user_id}]}),
            None,
        )
        .await;
    created.err(403, "forbidden");
    assert_eq!(c.get(&path).await.ok(200)["title"], "Owner edit");
    app.set_role(&app.a, zoe.user_id, Role::Admin).await;
    app.clock.advance(AUTH_CACHE_TTL);
    c.patch_json(&path, &json!({"title": "Admin edit"}), Some("\"2\""), None)
        .await
        .ok(200);
}
