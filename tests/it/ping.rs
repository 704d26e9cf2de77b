//! `GET /v1/_ping` (§3.1, §6.1.5): any valid token, the expanded scope list, envelope headers.

use testkit::{ALL_SCOPES, TestApp, both_backends};

both_backends!(
    ping_reports_the_token,
    ping_reports_expanded_alias_scopes,
    ping_needs_no_particular_scope,
    head_on_ping_sends_headers_without_body,
    request_ids_are_unique_per_request,
);

async fn ping_reports_the_token(app: TestApp) {
    let r = app.a.api.get("/v1/_ping").await;
    let d = r.ok(200);
    assert_eq!(d["ok"], true, "{}", r.describe());
    assert_eq!(d["auth_type"], "pat", "{}", r.describe());
    assert_eq!(
        d["account_id"],
        app.a.org_id.to_string(),
        "{}",
        r.describe()
    );
    assert!(
        d.get("client_id").is_none(),
        "PATs carry no client_id: {}",
        r.describe()
    );
    let mut got: Vec<&str> = d["scopes"]
        .as_array()
        .expect("scopes array")
        .iter()
        .map(|s| s.as_str().expect("scope string"))
        .collect();
    got.sort_unstable();
    let mut want = ALL_SCOPES.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    r.rate_limit_headers();
}

async fn ping_reports_expanded_alias_scopes(app: TestApp) {
    let t = app.mint_token(&app.a, &["bookings:write"], None).await;
    let r = app.client(&t.token).get("/v1/_ping").await;
    let d = r.ok(200);
    let mut got: Vec<&str> = d["scopes"]
        .as_array()
        .expect("scopes array")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![
            "bookings:cancel",
            "bookings:create",
            "bookings:reschedule",
            "bookings:update"
        ]
    );
}

async fn ping_needs_no_particular_scope(app: TestApp) {
    let t = app.mint_token(&app.b, &["webhooks:read"], None).await;
    let r = app.client(&t.token).get("/v1/_ping").await;
    let d = r.ok(200);
    assert_eq!(d["ok"], true);
    assert_eq!(d["account_id"], app.b.org_id.to_string());
}

async fn head_on_ping_sends_headers_without_body(app: TestApp) {
    let r = app.a.api.head("/v1/_ping").await;
    r.assert_status(200);
    r.request_id();
    r.rate_limit_headers();
    assert!(
        r.text.is_empty(),
        "HEAD must not send a body: {}",
        r.describe()
    );
}

async fn request_ids_are_unique_per_request(app: TestApp) {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10 {
        let r = app.a.api.get("/v1/_ping").await;
        r.ok(200);
        assert!(
            seen.insert(r.request_id().to_owned()),
            "duplicate request id"
        );
    }
}
