//! Authentication, rate limits and the operations stack through the router.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_api::ApiConfig;
use jiff::Timestamp;
use serde_json::json;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

fn assert_rate_headers(r: &Resp, limit: u64, remaining: u64, kind: &str) {
    let reset = (START / 60) * 60 + 60;
    assert_eq!(r.header("x-ratelimit-limit"), limit.to_string(), "{r:?}");
    assert_eq!(r.header("x-ratelimit-remaining"), remaining.to_string());
    assert_eq!(r.header("x-ratelimit-reset"), reset.to_string());
    assert_eq!(
        r.header("ratelimit-policy"),
        format!("\"{kind}\";q={limit};w=60")
    );
    assert_eq!(
        r.header("ratelimit"),
        format!("\"{kind}\";r={remaining};t=37")
    );
}

#[tokio::test]
async fn ping_reports_the_token_and_carries_every_header() {
    let h = Harness::new().await;
    let (_, token) = h.mint(&["user:read", "bookings:write"], None).await;
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["data"],
        json!({
            "ok": true, "auth_type": "pat", "account_id": h.org.0.to_string(),
            "scopes": ["bookings:cancel", "bookings:create", "bookings:reschedule",
                       "bookings:update", "user:read"],
        })
    );
    assert_eq!(v["meta"]["request_id"], r.header("x-request-id"));
    assert!(r.header("x-request-id").starts_with("req_"));
    assert_rate_headers(&r, 120, 119, "pat");

    // HEAD comes free on GET routes.
    let r = h.send(req("HEAD", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.is_empty());
}

#[tokio::test]
async fn me_renders_user_and_organization_and_checks_scope() {
    let h = Harness::new().await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let r = h.send(req("GET", "/v1/me", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["data"]["user"]["id"], h.user.0.to_string());
    assert_eq!(v["data"]["user"]["name"], "Ada Lovelace");
    assert_eq!(v["data"]["user"]["email"], "ada@example.com");
    assert_eq!(
        v["data"]["organization"],
        json!({"id": h.org.0.to_string(), "name": "Acme", "plan": "pro"})
    );

    let (_, narrow) = h.mint(&["bookings:read"], None).await;
    let r = h.send(req("GET", "/v1/me", Some(&narrow))).await;
    r.assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(
        r.json()["error"]["details"],
        json!({"required_scope": "user:read"})
    );
    assert_eq!(
        r.header("www-authenticate"),
        "Bearer error=\"insufficient_scope\" scope=\"user:read\""
    );
    assert_rate_headers(&r, 120, 119, "pat");
}

#[tokio::test]
async fn bad_credentials_are_invalid_token_and_count_per_ip() {
    let h = Harness::new().await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let mut wrong_secret = token.clone();
    let last = wrong_secret.pop().unwrap();
    wrong_secret.push(if last == 'A' { 'B' } else { 'A' });
    let at = token.replace("42min_pat_", "42min_at_");
    let cases: Vec<Option<&str>> = vec![
        None,
        Some("garbage"),
        Some(&wrong_secret),
        Some(&at),
        Some("42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ"),
    ];
    for (i, t) in cases.iter().enumerate() {
        let r = h.send(req("GET", "/v1/_ping", *t)).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        assert_eq!(
            r.header("www-authenticate"),
            "Bearer realm=\"42min\", error=\"invalid_token\", resource_metadata=\"http://127.0.0.1:8080/.well-known/oauth-protected-resource\""
        );
        assert_rate_headers(&r, 30, 29 - i as u64, "anonymous");
    }
    // Tokens are read only from the Authorization header.
    let r = h
        .send(req("GET", &format!("/v1/_ping?access_token={token}"), None))
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    // Another address has its own bucket.
    let r = h
        .send(req_from("GET", "/v1/_ping", None, "198.51.100.1:1"))
        .await;
    assert_rate_headers(&r, 30, 29, "anonymous");
}

#[tokio::test]
async fn revoked_and_expired_tokens() {
    let h = Harness::new().await;
    let (id, token) = h.mint(&["user:read"], None).await;
    assert_eq!(
        h.send(req("GET", "/v1/_ping", Some(&token))).await.status,
        StatusCode::OK
    );
    assert!(
        h.state
            .store
            .revoke_pat(h.org, id, h.state.clock.now())
            .await
            .unwrap()
    );
    // Revoking in the serving process goes with an invalidation (see `auth_cache`).
    h.state.invalidate_all();
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "token_revoked");
    assert_eq!(
        r.header("www-authenticate"),
        "Bearer realm=\"42min\", error=\"token_revoked\", resource_metadata=\"http://127.0.0.1:8080/.well-known/oauth-protected-resource\""
    );

    let expires = Timestamp::from_second(START + 10).unwrap();
    let (_, token) = h.mint(&["user:read"], Some(expires)).await;
    assert_eq!(
        h.send(req("GET", "/v1/_ping", Some(&token))).await.status,
        StatusCode::OK
    );
    h.clock.advance(10);
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn cached_tokens_still_check_secret_and_expiry_on_every_request() {
    let h = Harness::new().await;
    // Expires well inside the cache's time-to-live.
    let expires = Timestamp::from_second(START + 3).unwrap();
    let (_, token) = h.mint(&["user:read"], Some(expires)).await;
    assert_eq!(
        h.send(req("GET", "/v1/_ping", Some(&token))).await.status,
        StatusCode::OK
    );
    let lookup = auth::pat::parse(&token).unwrap().lookup;
    assert!(
        h.state
            .auth_cache
            .get(&lookup, h.state.clock.now())
            .await
            .is_some()
    );
    // Same lookup id, another secret: refused although the lookup id is cached.
    let (head, secret) = token.split_at(token.len() - 32);
    let forged: String = secret
        .chars()
        .map(|c| if c == 'A' { 'B' } else { 'A' })
        .collect();
    let r = h
        .send(req("GET", "/v1/_ping", Some(&format!("{head}{forged}"))))
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    h.clock.advance(2);
    assert_eq!(
        h.send(req("GET", "/v1/_ping", Some(&token))).await.status,
        StatusCode::OK
    );
    // Expiry is exact even while the entry is fresh.
    h.clock.advance(1);
    assert!(
        h.state
            .auth_cache
            .get(&lookup, h.state.clock.now())
            .await
            .is_some()
    );
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn pat_bucket_limit_resets_at_the_window_boundary() {
    let h = Harness::with_config(ApiConfig {
        authenticated_per_minute: 2,
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let (_, other) = h.mint(&["user:read"], None).await;
    for remaining in [1, 0] {
        let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_rate_headers(&r, 2, remaining, "pat");
    }
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        r.json()["error"]["message"],
        "Rate limit exceeded; retry in 37s."
    );
    assert_eq!(
        r.json()["error"]["details"],
        json!({"bucket": "pat", "limit": 2, "window_seconds": 60})
    );
    assert_eq!(r.header("retry-after"), "37");
    assert_rate_headers(&r, 2, 0, "pat");

    // A second token of the same account has its own bucket.
    let r = h.send(req("GET", "/v1/_ping", Some(&other))).await;
    assert_eq!(r.status, StatusCode::OK);

    // 36 s later the window has not rolled over; 37 s later it has.
    h.clock.advance(36);
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), "1");
    h.clock.advance(1);
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ratelimit-remaining"), "1");
    assert_eq!(
        r.header("x-ratelimit-reset"),
        ((START / 60) * 60 + 120).to_string()
    );
}

#[tokio::test]
async fn anonymous_bucket_limits_failed_auth() {
    let h = Harness::with_config(ApiConfig {
        anonymous_per_minute: 1,
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&[], None).await;
    assert_eq!(
        h.send(req("GET", "/v1/_ping", Some(&token))).await.status,
        StatusCode::OK
    );
    let r = h.send(req("GET", "/v1/_ping", Some("nope"))).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    let r = h.send(req("GET", "/v1/_ping", Some("nope"))).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(r.json()["error"]["details"]["bucket"], "anonymous");
    // A valid token verified recently (cached) is not held back by its address's anonymous
    // bucket; one that would have to be looked up first is (no lookup for such an address).
    let r = h.send(req("GET", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["data"]["scopes"], json!([]));
    let (_, fresh) = h.mint(&[], None).await;
    let r = h.send(req("GET", "/v1/_ping", Some(&fresh))).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(r.json()["error"]["details"]["bucket"], "anonymous");
}

#[tokio::test]
async fn trusted_proxy_forwarded_address_keys_the_anonymous_bucket() {
    let h = Harness::with_config(ApiConfig {
        anonymous_per_minute: 1,
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        ..ApiConfig::default()
    })
    .await;
    let via_proxy = |client: &str| {
        let mut r = req_from("GET", "/v1/_ping", None, "10.0.0.1:443");
        r.headers_mut().insert(
            "x-forwarded-for",
            format!("6.6.6.6, {client}").parse().unwrap(),
        );
        r
    };
    assert_eq!(
        h.send(via_proxy("203.0.113.1")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(via_proxy("203.0.113.2")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(via_proxy("203.0.113.1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // An untrusted peer cannot pick its bucket with the header.
    let mut spoof = req_from("GET", "/v1/_ping", None, "192.0.2.99:1");
    spoof
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.3".parse().unwrap());
    assert_eq!(h.send(spoof).await.status, StatusCode::UNAUTHORIZED);
    let mut spoof = req_from("GET", "/v1/_ping", None, "192.0.2.99:1");
    spoof
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.4".parse().unwrap());
    assert_eq!(h.send(spoof).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_envelopes() {
    let h = Harness::new().await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let r = h.send(req("GET", "/nope", None)).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(r.headers.get("x-ratelimit-limit").is_none());

    let r = h.send(req("GET", "/v1/nope", Some(&token))).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_rate_headers(&r, 120, 119, "pat");
    // Without a token, /v1/* answers 401 first.
    let r = h.send(req("GET", "/v1/nope", None)).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");

    let r = h.send(req("DELETE", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(r.header("allow").contains("GET"), "{:?}", r.headers);
    assert_rate_headers(&r, 120, 118, "pat");

    let r = h.send(req("POST", "/healthz", None)).await;
    r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn health_readiness_and_documents() {
    let h = Harness::new().await;
    let r = h.send(req("GET", "/healthz", None)).await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert!(r.header("x-request-id").starts_with("req_"));
    let r = h.send(req("GET", "/readyz", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    h.state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let r = h.send(req("GET", "/readyz", None)).await;
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");

    let r = h.send(req("GET", "/openapi.json", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), "*");
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/_ping"]["get"].is_object());
    assert!(doc["paths"]["/v1/me"]["get"].is_object());
    let r = h.send(req("GET", "/openapi.yaml", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/yaml");
    assert_eq!(r.header("access-control-allow-origin"), "*");
    assert!(r.text.starts_with("openapi: 3.1.0"), "{}", &r.text[..40]);

    // Metrics are off in this state.
    let r = h.send(req("GET", "/metrics", None)).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn metrics_label_by_matched_route() {
    let (mut state, _) = state(ApiConfig::default()).await;
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    state.metrics = Some(recorder.handle());
    let app = http_api::app(state);
    // The test runtime is single-threaded, so a thread-local default recorder sees every
    // metric the middleware records (no global recorder shared with other tests).
    let _guard = metrics::set_default_local_recorder(&recorder);
    // Twice: the second request goes through the cached handles.
    send(&app, req("GET", "/healthz", None)).await;
    send(&app, req("GET", "/healthz", None)).await;
    send(&app, req("GET", "/v1/some/raw/uuid-1234", None)).await;
    let r = send(&app, req("GET", "/metrics", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text
            .contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(r#"route="unmatched",status="401""#),
        "{}",
        r.text
    );
    assert!(!r.text.contains("uuid-1234"));
}

#[tokio::test]
async fn timeouts_and_body_limits_are_envelopes() {
    use axum::routing::{get, post};
    #[derive(serde::Deserialize)]
    struct Body1 {
        #[allow(dead_code)]
        x: String,
    }
    impl http_api::extract::KnownFields for Body1 {
        const FIELDS: &'static [&'static str] = &["x"];
    }
    let (state, _) = state(ApiConfig {
        request_timeout: std::time::Duration::from_millis(20),
        body_limit_bytes: 16,
        ..ApiConfig::default()
    })
    .await;
    let routes = OpenApiRouter::new()
        .route("/stuck", get(std::future::pending::<&'static str>))
        .route(
            "/echo",
            post(
                |http_api::extract::ApiJson(_b): http_api::extract::ApiJson<Body1>| async { "ok" },
            ),
        );
    let app = http_api::ops::assemble(state, routes);
    let r = send(&app, req("GET", "/stuck", None)).await;
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    let big = Request::builder()
        .method("POST")
        .uri("/echo")
        .header("content-type", "application/json")
        .body(Body::from(format!("{{\"x\":\"{}\"}}", "a".repeat(64))))
        .unwrap();
    let r = send(&app, big).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let small = Request::builder()
        .method("POST")
        .uri("/echo")
        .header("content-type", "application/json")
        .body(Body::from("{\"x\":\"a\"}"))
        .unwrap();
    assert_eq!(send(&app, small).await.status, StatusCode::OK);
    let untyped = Request::builder()
        .method("POST")
        .uri("/echo")
        .body(Body::from("{\"x\":\"a\"}"))
        .unwrap();
    let r = send(&app, untyped).await;
    r.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request");
}

#[tokio::test]
async fn app_state_clones_share_until_written() {
    let (state, _) = state(ApiConfig::default()).await;
    let mut copy = state.clone();
    // Clones share the fields...
    assert!(Arc::ptr_eq(&state.config, &copy.config));
    // ...and writing a field of one clone leaves the others as they were.
    copy.config = Arc::new(ApiConfig {
        anonymous_per_minute: 7,
        ..ApiConfig::default()
    });
    copy.metrics = Some(
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .build_recorder()
            .handle(),
    );
    assert_eq!(copy.config.anonymous_per_minute, 7);
    assert_eq!(state.config.anonymous_per_minute, 30);
    assert!(state.metrics.is_none());
    assert!(Arc::ptr_eq(&state.store, &copy.store));
}
