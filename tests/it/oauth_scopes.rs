//! An OAuth access token is accepted and scoped exactly like a personal access token on every
//! route (issue 14): the route × scope matrix of `scopes.rs`, run with OAuth tokens of the same
//! user — every scope but the required one → `403 insufficient_scope` naming it, nothing
//! changed; the required scope alone (plus `offline_access`, which no route consumes) → 2xx.

use crate::scopes::{fixtures, routes, snapshot};
use testkit::{ALL_SCOPES, TestApp, both_backends};

both_backends!(
    every_route_refuses_an_oauth_token_without_its_scope,
    the_required_scope_alone_suffices_for_an_oauth_token,
);

async fn every_route_refuses_an_oauth_token_without_its_scope(app: TestApp) {
    let f = fixtures(&app).await;
    let before = snapshot(&app).await;
    for route in routes(&app, &f) {
        let scopes: Vec<&str> = ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != route.scope)
            .collect();
        let t = app.oauth_tokens(&app.a, app.a.owner.user_id, &scopes).await;
        let r = route.call(&app.client(&t.access)).await;
        let d = r.err(403, "insufficient_scope");
        assert_eq!(d["required_scope"], route.scope, "{}", r.describe());
        assert_eq!(
            r.body["error"]["message"],
            format!("This action requires the '{}' scope", route.scope),
            "{}",
            r.describe()
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some(
                format!(
                    "Bearer error=\"insufficient_scope\" scope=\"{}\"",
                    route.scope
                )
                .as_str()
            ),
            "{}",
            r.describe()
        );
        r.rate_limit_headers();
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request changed something"
    );
}

async fn the_required_scope_alone_suffices_for_an_oauth_token(app: TestApp) {
    let f = fixtures(&app).await;
    for route in routes(&app, &f) {
        let t = app
            .oauth_tokens(&app.a, app.a.owner.user_id, &[route.scope])
            .await;
        let r = route.call(&app.client(&t.access)).await;
        assert!(
            (200..300).contains(&r.status),
            "scope {} alone: {}",
            route.scope,
            r.describe()
        );
        r.request_id();
        // The response's rate-limit bucket is the (client, account) one, not the PAT's.
        assert_eq!(
            r.header("x-ratelimit-limit"),
            Some("120"),
            "{}",
            r.describe()
        );
    }
}
