//! RFC 7591 Dynamic Client Registration behind `[oauth] dynamic_registration` (§6.1.2), RFC 8252
//! loopback redirect URIs for native public clients, the redirect URI variants that never
//! match, the per-IP limits of the OAuth endpoints (§2.4, §5.1) with the rate-limit headers on
//! discovery and the OpenAPI document, and RFC 9728 `resource_metadata` on 401s.

use crate::oauth::{PASSWORD, cookie_of, csrf_of, hidden_of, http, query_of};
use jiff::SignedDuration;
use serde_json::{Value, json};
use testkit::{ApiConfig, TestApp, both_backends};

both_backends!(
    registration_is_off_by_default,
    oauth_endpoints_have_per_ip_limits,
    discovery_and_openapi_count_in_the_anonymous_bucket,
    unauthorized_names_the_resource_metadata,
    revoking_the_client_kills_its_tokens_at_once,
);

both_backends!(
    config = ApiConfig { oauth_dynamic_registration: true, ..ApiConfig::default() };
    registration_creates_public_and_confidential_clients,
    registration_refuses_bad_metadata,
    registration_is_limited_to_5_per_minute,
    native_client_loopback_redirect_on_any_port,
);

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn register(app: &TestApp, body: &Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = http()
        .post(format!("{}/v1/oauth/register", app.base_url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, headers)
}

/// The next fixed rate-limit window (the test clock never moves on its own).
fn next_window(app: &TestApp) {
    app.clock.advance(SignedDuration::from_secs(60));
}

async fn registration_is_off_by_default(app: TestApp) {
    let (status, body, _) = register(
        &app,
        &json!({"redirect_uris": ["https://app.example/cb"], "client_name": "X"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let doc: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            app.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc.get("registration_endpoint").is_none(), "{doc}");
}

async fn registration_creates_public_and_confidential_clients(app: TestApp) {
    let doc: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            app.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["registration_endpoint"],
        format!("{}/v1/oauth/register", app.base_url)
    );

    // A native public client.
    let (status, body, headers) = register(
        &app,
        &json!({
            "client_name": "Native CLI",
            "redirect_uris": ["http://127.0.0.1/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "user:read offline_access",
            "logo_uri": "https://ignored.example/logo.png"
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body["client_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(body["client_name"], "Native CLI");
    assert_eq!(body["redirect_uris"], json!(["http://127.0.0.1/cb"]));
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(body["response_types"], json!(["code"]));
    assert_eq!(body["client_id_issued_at"], app.now().as_second());
    let scopes: Vec<&str> = body["scope"].as_str().unwrap().split(' ').collect();
    assert!(
        scopes.contains(&"user:read") && scopes.contains(&"offline_access"),
        "{body}"
    );

    // A confidential client (client_secret_basic is RFC 7591's default); its secret works.
    let (status, body, _) = register(
        &app,
        &json!({"client_name": "Web App", "redirect_uris": ["https://app.example/cb"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    let id = body["client_id"].as_str().unwrap();
    let secret = body["client_secret"].as_str().unwrap();
    let introspect = |secret: String| {
        let url = format!("{}/v1/oauth/introspect", app.base_url);
        let id = id.to_owned();
        async move {
            http()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[(
                    "token",
                    "42min_at_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJK",
                )])
                .send()
                .await
                .unwrap()
        }
    };
    let r = introspect(secret.to_owned()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"active":false}"#);
    let r = introspect("wrong".to_owned()).await;
    assert_eq!(r.status(), 401);

    // Its consent page names it as registered.
    let r = http()
        .get(format!(
            "{}/v1/oauth/authorize?response_type=code&client_id={id}&scope=user:read&code_challenge={CHALLENGE}&code_challenge_method=S256",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Sign in to continue to Web App")
    );
}

async fn registration_refuses_bad_metadata(app: TestApp) {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"client_name": "X"}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["http://localhost/cb"], "token_endpoint_auth_method": "none"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["implicit"], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "scope": "user:read admin:everything"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://app.example/cb"}),
            "invalid_client_metadata",
        ),
    ];
    for (i, (body, error)) in cases.iter().enumerate() {
        if i % 5 == 0 {
            next_window(&app);
        }
        let (status, got, headers) = register(&app, body).await;
        assert_eq!(status, 400, "{body} → {got}");
        assert_eq!(got["error"], *error, "{body} → {got}");
        assert!(
            got["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{got}"
        );
        assert_eq!(headers["x-ratelimit-limit"], "5");
    }
    // Not JSON at all.
    next_window(&app);
    let r = http()
        .post(format!("{}/v1/oauth/register", app.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect_uris=https://app.example/cb")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["error"], "invalid_client_metadata");
    // Nothing was registered.
    assert_eq!(app.oauth_service().list_clients().await.unwrap().len(), 0);
}

#[track_caller]
fn assert_limited(status: u16, body: &Value, headers: &reqwest::header::HeaderMap, bucket: &str) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(body["error"]["details"]["bucket"], bucket, "{body}");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert!(headers.contains_key("retry-after"));
    assert!(headers.contains_key("x-ratelimit-reset"));
}

async fn registration_is_limited_to_5_per_minute(app: TestApp) {
    let body = json!({"client_name": "X", "redirect_uris": ["https://app.example/cb"]});
    for i in 0..5 {
        let (status, got, headers) = register(&app, &body).await;
        assert_eq!(status, 201, "{got}");
        assert_eq!(headers["x-ratelimit-limit"], "5");
        assert_eq!(
            headers["x-ratelimit-remaining"],
            (4 - i).to_string().as_str()
        );
    }
    let (status, got, headers) = register(&app, &body).await;
    assert_limited(status, &got, &headers, "oauth_register");
    assert_eq!(got["error"]["details"]["limit"], 5);
    assert_eq!(app.oauth_service().list_clients().await.unwrap().len(), 5);
    // The next window starts afresh.
    next_window(&app);
    let (status, got, _) = register(&app, &body).await;
    assert_eq!(status, 201, "{got}");
}

async fn oauth_endpoints_have_per_ip_limits(app: TestApp) {
    let b = app.base_url.clone();
    // (path, method, limit, bucket, run the bucket dry); bad requests count like any other.
    // Revoke and introspect are only checked for their own limit (bounded test time).
    for (path, post, limit, bucket, exhaust) in [
        ("/v1/oauth/authorize", false, 30, "oauth_authorize", true),
        ("/v1/oauth/token", true, 60, "oauth_token", true),
        ("/v1/oauth/revoke", true, 60, "oauth_revoke", false),
        ("/v1/oauth/introspect", true, 120, "oauth_introspect", false),
    ] {
        next_window(&app);
        let send = || async {
            let url = format!("{b}{path}");
            let r = if post {
                http().post(url).form(&[("grant_type", "password")])
            } else {
                http().get(url)
            };
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                headers,
            )
        };
        let requests = if exhaust { limit } else { 2 };
        for i in 0..requests {
            let (status, _, headers) = send().await;
            assert_ne!(status, 429, "{path} request {i}");
            assert_eq!(headers["x-ratelimit-limit"], limit.to_string().as_str());
            assert_eq!(
                headers["x-ratelimit-remaining"],
                (limit - 1 - i).to_string().as_str(),
                "{path}"
            );
        }
        if exhaust {
            let (status, body, headers) = send().await;
            assert_limited(status, &body, &headers, bucket);
        }
    }
    // The endpoints' own buckets leave the /v1 anonymous bucket alone.
    let r = app.anon().get("/v1/_ping").await;
    assert_eq!(r.header("x-ratelimit-remaining"), Some("29"));
}

async fn discovery_and_openapi_count_in_the_anonymous_bucket(app: TestApp) {
    let paths = [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/openapi.yaml",
        "/openapi.json",
    ];
    for (i, path) in paths.iter().enumerate() {
        let r = app.anon().get(path).await;
        assert_eq!(r.status, 200, "{path}");
        let (limit, remaining, reset) = r.rate_limit_headers();
        assert_eq!((limit, remaining), (30, 29 - i as i64), "{path}");
        assert!(reset > app.now().as_second(), "{path}");
    }
    // One bucket with the failed /v1 calls of the same address.
    let r = app.anon().get("/v1/_ping").await;
    assert_eq!(r.header("x-ratelimit-remaining"), Some("25"));
    for _ in 0..25 {
        app.anon().get("/openapi.json").await;
    }
    let r = app
        .anon()
        .get("/.well-known/oauth-protected-resource")
        .await;
    r.err(429, "rate_limited");
    assert_eq!(r.details()["bucket"], "anonymous");
    // Health probes are never limited.
    assert_eq!(app.anon().get("/healthz").await.status, 200);
}

async fn unauthorized_names_the_resource_metadata(app: TestApp) {
    let r = app.anon().get("/v1/me").await;
    r.err(401, "invalid_token");
    let url = format!("{}/.well-known/oauth-protected-resource", app.base_url);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!("Bearer realm=\"42min\", error=\"invalid_token\", resource_metadata=\"{url}\"")
                .as_str()
        )
    );
    let doc: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["resource"], app.base_url);
}

/// authorize → sign in → approve for `query`; returns the redirect's `Location`.
async fn approve(app: &TestApp, query: &str) -> String {
    let b = &app.base_url;
    let r = http()
        .get(format!("{b}/v1/oauth/authorize?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    let mut form = hidden_of(&page);
    form.push(("csrf_token".into(), csrf_of(&page)));
    form.push(("action".into(), "sign_in".into()));
    form.push(("email".into(), app.a.email.clone()));
    form.push(("password".into(), PASSWORD.into()));
    let r = http()
        .post(format!("{b}/v1/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    let mut form = hidden_of(&page);
    form.push(("csrf_token".into(), csrf_of(&page)));
    form.push(("action".into(), "approve".into()));
    let r = http()
        .post(format!("{b}/v1/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn native_client_loopback_redirect_on_any_port(app: TestApp) {
    app.set_owner_password(&app.a, PASSWORD).await;
    let (status, body, _) = register(
        &app,
        &json!({
            "client_name": "Native CLI",
            "redirect_uris": ["http://127.0.0.1/cb", "http://[::1]/cb?mode=cli"],
            "token_endpoint_auth_method": "none",
            "scope": "user:read"
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_id"].as_str().unwrap().to_owned();
    let web = app
        .create_oauth_client(true, &["https://app.example/cb"], &["user:read"])
        .await;
    let q = |client: &str, redirect: &str| {
        let r: String = form_urlencoded(redirect);
        format!(
            "response_type=code&client_id={client}&redirect_uri={r}&scope=user:read&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256"
        )
    };
    // Never trusted: a page, no redirect.
    for (client, redirect) in [
        (id.as_str(), "http://localhost:51234/cb"),
        (id.as_str(), "http://127.0.0.1:51234/other"),
        (id.as_str(), "http://127.0.0.1:51234/cb/"),
        (id.as_str(), "http://127.0.0.1:51234/cb?x=1"),
        (id.as_str(), "http://[::1]:51234/cb"),
        (id.as_str(), "http://[::1]:51234/cb?mode=gui"),
        (id.as_str(), "http://127.0.0.1:51234/cb#f"),
        (id.as_str(), "https://127.0.0.1:51234/cb"),
        // Another port on a non-loopback host, and loopback for a confidential client.
        (web.client_id.as_str(), "https://app.example:8443/cb"),
        (web.client_id.as_str(), "http://127.0.0.1:51234/cb"),
    ] {
        let r = http()
            .get(format!(
                "{}/v1/oauth/authorize?{}",
                app.base_url,
                q(client, redirect)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{redirect}");
        assert!(r.headers().get("location").is_none(), "{redirect}");
    }
    // Any port on the registered loopback IP, same path and query; the code is bound to the
    // presented URI, port included (a wrong one burns the code).
    let exchange = |code: String, redirect: String| {
        let form = [
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", id.clone()),
            ("code_verifier", VERIFIER.to_owned()),
        ];
        let url = format!("{}/v1/oauth/token", app.base_url);
        async move {
            let r = http().post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    for (redirect, other_port) in [
        ("http://127.0.0.1:51234/cb", "http://127.0.0.1:51235/cb"),
        ("http://[::1]:8/cb?mode=cli", "http://[::1]:9/cb?mode=cli"),
    ] {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let location = approve(&app, &q(&id, redirect)).await;
        assert!(
            location.starts_with(&format!("{redirect}{sep}")),
            "{location}"
        );
        let code = query_of(&location)["code"].clone();
        let (s, body) = exchange(code.clone(), other_port.to_owned()).await;
        assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
        let (s, body) = exchange(code, redirect.to_owned()).await;
        assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));

        let location = approve(&app, &q(&id, redirect)).await;
        let p = query_of(&location);
        assert_eq!(p["state"], "s");
        let (s, body) = exchange(p["code"].clone(), redirect.to_owned()).await;
        assert_eq!(s, 200, "{body}");
        let ping = app
            .client(body["access_token"].as_str().unwrap())
            .get("/v1/_ping")
            .await;
        ping.ok(200);
        assert_eq!(ping.data()["client_id"], id.as_str());
    }
}

/// The client is revoked straight in the store (as `slotbook admin oauth-client revoke` in
/// another process does): the serving process refuses its tokens on the next request, because
/// OAuth access tokens are read from the store on every request (no cache).
async fn revoking_the_client_kills_its_tokens_at_once(app: TestApp) {
    app.set_owner_password(&app.a, PASSWORD).await;
    let c = app
        .create_oauth_client(false, &["http://127.0.0.1/cb"], &["user:read"])
        .await;
    let redirect = "http://127.0.0.1:40000/cb";
    let location = approve(
        &app,
        &format!(
            "response_type=code&client_id={}&redirect_uri={}&scope=user:read&code_challenge={CHALLENGE}&code_challenge_method=S256",
            c.client_id,
            form_urlencoded(redirect)
        ),
    )
    .await;
    let code = query_of(&location)["code"].clone();
    let r = http()
        .post(format!("{}/v1/oauth/token", app.base_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", &c.client_id),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap().to_owned();
    app.client(&at).get("/v1/me").await.ok(200);
    app.revoke_oauth_client(&c.client_id).await;
    app.client(&at)
        .get("/v1/me")
        .await
        .err(401, "token_revoked");
}

fn form_urlencoded(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", s)])
        .unwrap()
        .query()
        .unwrap()
        .trim_start_matches("v=")
        .to_owned()
}
