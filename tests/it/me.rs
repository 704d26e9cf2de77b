//! `GET /v1/me` (§3.2): the token's user and organization.

use testkit::{TestApp, both_backends};

both_backends!(me_returns_user_and_organization, me_is_per_token_owner);

async fn me_returns_user_and_organization(app: TestApp) {
    let r = app.a.api.get("/v1/me").await;
    let d = r.ok(200);
    let u = &d["user"];
    assert_eq!(u["id"], app.a.owner.user_id.to_string(), "{}", r.describe());
    assert_eq!(u["username"], "alice");
    assert_eq!(u["email"], "alice@example.com");
    assert_eq!(u["first_name"], "Alice");
    assert_eq!(u["last_name"], "Tester");
    assert_eq!(u["name"], "Alice Tester");
    assert_eq!(u["timezone"], "Europe/Berlin");
    for field in ["locale", "avatar_url"] {
        assert!(
            u.get(field).is_some(),
            "user.{field} must be present (nullable): {}",
            r.describe()
        );
    }
    let o = &d["organization"];
    assert_eq!(o["id"], app.a.org_id.to_string());
    assert_eq!(o["name"], "Org A");
    assert!(
        o.get("plan").is_some(),
        "organization.plan must be present (nullable)"
    );
    r.rate_limit_headers();
}

async fn me_is_per_token_owner(app: TestApp) {
    let r = app.b.api.get("/v1/me").await;
    let d = r.ok(200);
    assert_eq!(d["user"]["username"], "bob");
    assert_eq!(d["organization"]["id"], app.b.org_id.to_string());
    let carol = app.create_host(&app.a, "carol").await;
    let t = app
        .mint_token_for(&app.a, carol.user_id, &["user:read"], None)
        .await;
    let r = app.client(&t.token).get("/v1/me").await;
    let d = r.ok(200);
    assert_eq!(d["user"]["id"], carol.user_id.to_string());
    assert_eq!(d["user"]["username"], "carol");
    assert_eq!(d["organization"]["id"], app.a.org_id.to_string());
}
