//! An OAuth access token is accepted and scoped exactly like a personal access token on every
//! route (issue 14): the route × scope matrix of `scopes.rs`, run with OAuth tokens of the same
//! user — every scope but the required one → `403 insufficient_scope` naming it, nothing
//! changed; the required scope alone (plus `offline_access`, which no route consumes) → 2xx.

use crate::scopes::{Kind, refuses_without_its_scope, the_required_scope_suffices};
use testkit::{ALL_SCOPES, TestApp, both_backends};

both_backends!(
    every_route_refuses_an_oauth_token_without_its_scope,
    the_required_scope_alone_suffices_for_an_oauth_token,
    webhook_routes_scope_oauth_tokens_like_pats,
);

async fn every_route_refuses_an_oauth_token_without_its_scope(app: TestApp) {
    refuses_without_its_scope(&app, Kind::OAuth).await;
}

async fn the_required_scope_alone_suffices_for_an_oauth_token(app: TestApp) {
    the_required_scope_suffices(&app, Kind::OAuth).await;
}

/// The webhook routes (§4.1) check an OAuth token's scopes as they check a PAT's: without
/// the scope → `403 insufficient_scope` naming it; with it the request gets past the check
/// (a list, or `404` for an id that does not exist).
async fn webhook_routes_scope_oauth_tokens_like_pats(app: TestApp) {
    let id = uuid::Uuid::new_v4();
    let routes: Vec<(reqwest::Method, String, &str, Option<serde_json::Value>)> = vec![
        (
            reqwest::Method::GET,
            "/v1/webhooks".into(),
            "webhooks:read",
            None,
        ),
        (
            reqwest::Method::POST,
            "/v1/webhooks".into(),
            "webhooks:write",
            Some(
                serde_json::json!({"url": "https://example.com/h", "events": ["booking.created"]}),
            ),
        ),
        (
            reqwest::Method::GET,
            format!("/v1/webhooks/{id}"),
            "webhooks:read",
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/v1/webhooks/{id}"),
            "webhooks:write",
            Some(serde_json::json!({"description": "x"})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/v1/webhooks/{id}"),
            "webhooks:write",
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/v1/webhooks/{id}/rotate-secret"),
            "webhooks:write",
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/v1/webhooks/{id}/test"),
            "webhooks:write",
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/v1/webhooks/{id}/deliveries"),
            "webhooks:read",
            None,
        ),
    ];
    let without: Vec<&str> = ALL_SCOPES
        .iter()
        .copied()
        .filter(|s| !s.starts_with("webhooks:"))
        .collect();
    let none = app
        .oauth_tokens(&app.a, app.a.owner.user_id, &without)
        .await;
    let all = app
        .oauth_tokens(
            &app.a,
            app.a.owner.user_id,
            &["webhooks:read", "webhooks:write"],
        )
        .await;
    for (method, path, scope, body) in routes {
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        let bytes = body.as_ref().map(|b| b.to_string().into_bytes());
        let r = app
            .client(&none.access)
            .request(method.clone(), &path, headers, bytes.clone())
            .await;
        let d = r.err(403, "insufficient_scope");
        assert_eq!(d["required_scope"], scope, "{}", r.describe());
        let r = app
            .client(&all.access)
            .request(method.clone(), &path, headers, bytes)
            .await;
        assert!(
            r.status != 401 && r.status != 403 && r.status < 500,
            "{method} {path} with {scope}: {}",
            r.describe()
        );
    }
    app.client(&all.access).get("/v1/webhooks").await.ok(200);
}
