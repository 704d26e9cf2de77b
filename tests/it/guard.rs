//! Cheap refusals first (issue 17 item 3): the `/v1` guard refuses an address over its anonymous
//! limit, and a token over its own limit, from this process's own counters — before any token
//! lookup or shared-counter hit (counted by [`testkit::spawn_app_counting`]); IPv6 clients are
//! one bucket per /64 and IPv4-mapped IPv6 addresses are their IPv4 address; `/metrics` can
//! require a bearer token.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use testkit::{ApiConfig, GuardDbWork, TestApp, both_backends};

/// Runs each test on both stores with the guard's database work counted.
macro_rules! counting {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    testkit::run_counting(testkit::Backend::Sqlite, small_limits(), super::$name)
                        .await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    testkit::run_counting(testkit::Backend::Postgres, small_limits(), super::$name)
                        .await
                }
            }
        )+
    };
}

counting!(
    an_anonymous_flood_is_refused_without_database_work,
    a_token_over_its_limit_is_refused_without_database_work,
);

both_backends!(
    config = behind_a_proxy();
    ipv6_clients_share_a_bucket_per_64,
);

both_backends!(
    config = ApiConfig {
        metrics_token: Some(http_api::state::MetricsToken::new(METRICS_TOKEN)),
        ..ApiConfig::default()
    };
    metrics_with_a_token_need_it,
);

both_backends!(metrics_without_a_token_are_open);

const ANON_LIMIT: u64 = 5;
const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";

fn small_limits() -> ApiConfig {
    ApiConfig {
        anonymous_per_minute: ANON_LIMIT,
        authenticated_per_minute: 5,
        ..ApiConfig::default()
    }
}

fn behind_a_proxy() -> ApiConfig {
    ApiConfig {
        anonymous_per_minute: 2,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..ApiConfig::default()
    }
}

/// A well-formed PAT that does not authenticate: org B's token with its secret reversed (its
/// lookup id exists, so only a store read can tell).
fn wrong_secret(app: &TestApp) -> String {
    let t = &app.b.token.token;
    let (head, secret) = t.rsplit_once('_').unwrap();
    format!("{head}_{}", secret.chars().rev().collect::<String>())
}

async fn an_anonymous_flood_is_refused_without_database_work(app: TestApp, work: Arc<GuardDbWork>) {
    // A PAT verified just now (cached) keeps working from the exhausted address below.
    app.a.api.get("/v1/_ping").await.ok(200);
    let guess = app.client(&wrong_secret(&app));
    for _ in 0..ANON_LIMIT {
        guess.get("/v1/_ping").await.err(401, "invalid_token");
    }
    let reads = work.token_reads.load(Ordering::SeqCst);
    assert_eq!(
        reads,
        1 + ANON_LIMIT,
        "one lookup per guess under the limit"
    );
    let before = work.total();
    // The flood: guesses, no token, garbage — all refused from memory.
    for i in 0..40 {
        let r = match i % 3 {
            0 => guess.get("/v1/_ping").await,
            1 => app.anon().get("/v1/me").await,
            _ => app.client("not-a-token").get("/v1/bookings").await,
        };
        let d = r.err(429, "rate_limited");
        assert_eq!(d["bucket"], "anonymous", "{}", r.describe());
        assert!(r.header("retry-after").is_some(), "{}", r.describe());
    }
    assert_eq!(
        work.total(),
        before,
        "no token lookup and no shared-counter hit for a refused request (reads {} counter hits {})",
        work.token_reads.load(Ordering::SeqCst),
        work.counter_hits.load(Ordering::SeqCst)
    );
    // The cached PAT passes without a lookup; a PAT not verified recently is refused with the
    // address (verifying it would need the lookup the refusal spares).
    app.a.api.get("/v1/_ping").await.ok(200);
    assert_eq!(work.token_reads.load(Ordering::SeqCst), reads);
    let fresh = app.mint_token(&app.a, &["user:read"], None).await;
    let r = app.client(&fresh.token).get("/v1/_ping").await;
    assert_eq!(r.err(429, "rate_limited")["bucket"], "anonymous");
    assert_eq!(work.token_reads.load(Ordering::SeqCst), reads);
    // The next window starts afresh.
    let now = app.now().as_second();
    app.clock
        .set(jiff::Timestamp::from_second(now - now.rem_euclid(60) + 60).unwrap());
    app.client(&fresh.token).get("/v1/_ping").await.ok(200);
}

async fn a_token_over_its_limit_is_refused_without_database_work(
    app: TestApp,
    work: Arc<GuardDbWork>,
) {
    for _ in 0..5 {
        app.a.api.get("/v1/_ping").await.ok(200);
    }
    let before = work.total();
    for _ in 0..30 {
        let r = app.a.api.get("/v1/_ping").await;
        assert_eq!(r.err(429, "rate_limited")["bucket"], "pat");
    }
    assert_eq!(work.total(), before, "refused from the in-process count");
    assert_eq!(
        work.token_reads.load(Ordering::SeqCst),
        1,
        "one lookup, then the cache"
    );
}

async fn ipv6_clients_share_a_bucket_per_64(app: TestApp) {
    let from = |addr: &'static str| {
        let anon = app.anon();
        async move {
            anon.request(
                reqwest::Method::GET,
                "/v1/_ping",
                &[("x-forwarded-for", addr)],
                None,
            )
            .await
        }
    };
    // Two addresses of one /64: one allowance of 2.
    from("2001:db8:1:2::1").await.err(401, "invalid_token");
    from("2001:db8:1:2:ffff::9").await.err(401, "invalid_token");
    let r = from("2001:db8:1:2:abcd::1").await;
    assert_eq!(r.err(429, "rate_limited")["bucket"], "anonymous");
    // The neighbouring /64 has its own.
    from("2001:db8:1:3::1").await.err(401, "invalid_token");
    // IPv4 and its IPv4-mapped IPv6 form are one client; the next IPv4 address is another.
    from("198.51.100.7").await.err(401, "invalid_token");
    from("::ffff:198.51.100.7").await.err(401, "invalid_token");
    let r = from("::ffff:198.51.100.7").await;
    assert_eq!(r.err(429, "rate_limited")["bucket"], "anonymous");
    from("198.51.100.8").await.err(401, "invalid_token");
}

async fn metrics_with_a_token_need_it(app: TestApp) {
    let r = app.anon().get("/metrics").await;
    r.err(401, "invalid_token");
    assert!(r.header("www-authenticate").is_some(), "{}", r.describe());
    app.client("metrics-token-0123456789abcdeX")
        .get("/metrics")
        .await
        .err(401, "invalid_token");
    // A `/v1` token is not the metrics token.
    app.a.api.get("/metrics").await.err(401, "invalid_token");
    let r = app.client(METRICS_TOKEN).get("/metrics").await;
    r.assert_status(200);
    assert!(r.text.contains("http_requests_total"), "{}", r.describe());
    // The served document says so.
    let doc = app.anon().get("/openapi.json").await;
    assert_eq!(
        doc.body["paths"]["/metrics"]["get"]["security"],
        serde_json::json!([{"bearerAuth": []}]),
        "{}",
        doc.describe()
    );
}

async fn metrics_without_a_token_are_open(app: TestApp) {
    app.a.api.get("/v1/_ping").await.ok(200);
    let r = app.anon().get("/metrics").await;
    r.assert_status(200);
    assert!(r.text.contains("http_requests_total"), "{}", r.describe());
    // The served document declares no authentication for it.
    let doc = app.anon().get("/openapi.json").await;
    assert_eq!(
        doc.body["paths"]["/metrics"]["get"]["security"],
        serde_json::json!([{}]),
        "{}",
        doc.describe()
    );
}
