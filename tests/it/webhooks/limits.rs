//! Rate limits (§2.4) on every §4.1 management endpoint: the calls count in the caller's
//! bucket, the one over the limit answers `429 rate_limited` with `Retry-After`, the
//! `X-RateLimit-*` headers (`Remaining: 0`) and the IETF `RateLimit` / `RateLimit-Policy`
//! headers, and it has no effect (nothing created, changed, sent or deleted).

use super::*;
use jiff::Timestamp;
use testkit::{ApiConfig, Resp};

const LIMIT: i64 = 2;

both_backends!(
    config = ApiConfig {
        authenticated_per_minute: LIMIT as u64,
        ..ApiConfig::default()
    };
    every_management_endpoint_is_rate_limited,
);

/// The end of the fixed window containing `now`, in epoch seconds.
fn window_end(now: Timestamp) -> i64 {
    let s = now.as_second();
    s - s.rem_euclid(60) + 60
}

/// Moves the test clock to the start of the next window (a fresh budget).
fn next_window(app: &TestApp) {
    app.clock
        .set(Timestamp::from_second(window_end(app.now())).expect("instant"));
}

#[track_caller]
fn assert_limited(app: &TestApp, what: &str, r: &Resp) {
    let d = r.err(429, "rate_limited");
    assert_eq!(d["bucket"], "pat", "{what}: {}", r.describe());
    assert_eq!(d["limit"], LIMIT, "{what}: {}", r.describe());
    assert_eq!(d["window_seconds"], 60, "{what}: {}", r.describe());
    let (limit, remaining, reset) = r.rate_limit_headers();
    assert_eq!((limit, remaining), (LIMIT, 0), "{what}");
    assert_eq!(reset, window_end(app.now()), "{what}");
    let retry = r
        .header_i64("retry-after")
        .unwrap_or_else(|| panic!("{what}: Retry-After: {}", r.describe()));
    assert_eq!(retry, reset - app.now().as_second(), "{what}");
    assert!((1..=60).contains(&retry), "{what}: {retry}");
    let policy = r.header("ratelimit-policy").unwrap_or_default();
    assert!(
        policy.contains(&LIMIT.to_string()) && policy.contains("60"),
        "{what}: {policy}"
    );
    assert!(r.header("ratelimit").is_some(), "{what}: RateLimit header");
}

/// Spends the window's budget on `call` (each answering `ok`, with `X-RateLimit-Remaining`
/// counting down), then asserts that one more `call` is limited.
async fn exhaust<F, Fut>(app: &TestApp, what: &str, ok: u16, call: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Resp>,
{
    next_window(app);
    for i in 0..LIMIT {
        let r = call().await;
        r.assert_status(ok);
        let (limit, remaining, _) = r.rate_limit_headers();
        assert_eq!(
            (limit, remaining),
            (LIMIT, LIMIT - 1 - i),
            "{what} #{}",
            i + 1
        );
    }
    let r = call().await;
    assert_limited(app, what, &r);
}

async fn every_management_endpoint_is_rate_limited(app: TestApp) {
    let rx = Receiver::start().await;
    let api = app.a.api.clone();
    let body = json!({"url": rx.url("/limited"), "events": ["booking_created"]});
    exhaust(&app, "create", 201, || {
        api.post_json("/v1/webhooks", &body, None)
    })
    .await;
    exhaust(&app, "list", 200, || api.get("/v1/webhooks")).await;
    next_window(&app);
    let hooks = api.get("/v1/webhooks").await.ok(200).clone();
    assert_eq!(
        hooks.as_array().unwrap().len(),
        2,
        "the limited create made nothing"
    );
    let id = hooks[0]["id"].as_str().unwrap().to_owned();
    let one = format!("/v1/webhooks/{id}");

    exhaust(&app, "get", 200, || api.get(&one)).await;
    let described = std::sync::Mutex::new(0);
    exhaust(&app, "patch", 200, || {
        let mut c = described.lock().unwrap();
        *c += 1;
        let patch = json!({"description": format!("edit {c}")});
        let (api, one) = (api.clone(), one.clone());
        async move { api.patch_json(&one, &patch, None, None).await }
    })
    .await;
    next_window(&app);
    let got = api.get(&one).await.ok(200).clone();
    assert_eq!(
        got["description"],
        format!("edit {LIMIT}"),
        "the limited patch changed nothing"
    );

    let empty = json!({});
    let rotate = format!("{one}/rotate-secret");
    exhaust(&app, "rotate-secret", 200, || {
        api.post_json(&rotate, &empty, None)
    })
    .await;
    let test = format!("{one}/test");
    exhaust(&app, "test", 200, || api.post_json(&test, &empty, None)).await;
    assert_eq!(
        rx.received().len(),
        LIMIT as usize,
        "the limited test sent nothing"
    );
    let deliveries = format!("{one}/deliveries");
    exhaust(&app, "deliveries", 200, || api.get(&deliveries)).await;

    // Delete: the first call deletes, the second finds nothing (404 counts too), the third is
    // limited; the other subscription survives.
    next_window(&app);
    let r = api.delete(&one).await;
    r.assert_status(204);
    assert_eq!(r.rate_limit_headers().1, LIMIT - 1);
    let r = api.delete(&one).await;
    r.err(404, "not_found");
    assert_eq!(r.rate_limit_headers().1, 0);
    let other = format!("/v1/webhooks/{}", hooks[1]["id"].as_str().unwrap());
    assert_limited(&app, "delete", &api.delete(&other).await);
    next_window(&app);
    api.get(&other).await.ok(200);
}
