//! Rate limits with a shared counter store (as when several `slotbook serve` processes share one
//! Postgres): two app instances count into one window, and a failing counter store fails open.

use crate::support::*;
use async_trait::async_trait;
use axum::http::StatusCode;
use domain::ports::{RateLimitCounter, StoreError};
use http_api::ApiConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An in-memory stand-in for the database counter table.
#[derive(Default)]
struct MemoryCounter(Mutex<HashMap<(String, i64), u64>>);

#[async_trait]
impl RateLimitCounter for MemoryCounter {
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError> {
        let mut m = self.0.lock().unwrap();
        let n = m.entry((bucket.to_owned(), window_start)).or_default();
        *n += 1;
        Ok(*n)
    }
}

struct BrokenCounter;

#[async_trait]
impl RateLimitCounter for BrokenCounter {
    async fn hit(&self, _: &str, _: i64) -> Result<u64, StoreError> {
        Err(StoreError::Unknown(anyhow::anyhow!(
            "counter store is down"
        )))
    }
}

fn app_with(h: &Harness, counter: Arc<dyn RateLimitCounter>) -> axum::Router {
    let mut state = h.state.clone();
    state.shared_counter = Some(counter);
    http_api::app(state)
}

#[tokio::test]
async fn two_instances_share_one_window() {
    let h = Harness::with_config(ApiConfig {
        authenticated_per_minute: 3,
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let counter: Arc<dyn RateLimitCounter> = Arc::new(MemoryCounter::default());
    let first = app_with(&h, counter.clone());
    let second = app_with(&h, counter);
    for (app, remaining) in [(&first, "2"), (&second, "1"), (&first, "0")] {
        let r = send(app, req("GET", "/v1/_ping", Some(&token))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-remaining"), remaining);
    }
    let r = send(&second, req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

/// A failing shared counter fails open: every request within the limit by this process's own
/// count is allowed (not 5xx), with the in-process count in the headers; one over the limit
/// by that count alone is still refused (the shared count could only be higher).
#[tokio::test]
async fn a_failing_counter_store_fails_open() {
    let h = Harness::with_config(ApiConfig {
        authenticated_per_minute: 3,
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let app = app_with(&h, Arc::new(BrokenCounter));
    for remaining in ["2", "1", "0"] {
        let r = send(&app, req("GET", "/v1/_ping", Some(&token))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), "3");
        assert_eq!(r.header("x-ratelimit-remaining"), remaining);
    }
    let r = send(&app, req("GET", "/v1/_ping", Some(&token))).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

/// Never answers.
struct HangingCounter;

#[async_trait]
impl RateLimitCounter for HangingCounter {
    async fn hit(&self, _: &str, _: i64) -> Result<u64, StoreError> {
        std::future::pending().await
    }
}

/// A shared counter that does not answer holds a request at most `shared_counter_timeout`;
/// then the request is allowed (fail-open).
#[tokio::test]
async fn a_silent_counter_store_costs_at_most_the_shared_timeout() {
    let h = Harness::with_config(ApiConfig {
        shared_counter_timeout: std::time::Duration::from_millis(100),
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let app = app_with(&h, Arc::new(HangingCounter));
    let started = std::time::Instant::now();
    let r = send(&app, req("GET", "/v1/_ping", Some(&token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-remaining"), "119");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    // Anonymous requests too (their 401 waits the same bound at most).
    let r = send(&app, req("GET", "/v1/_ping", None)).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
}

/// The whole guard (authentication and rate limits) runs under the request timeout: a guard
/// stuck on its shared counter is answered `503 service_unavailable` with `Retry-After` once
/// the request timeout is over, never held longer.
#[tokio::test]
async fn the_guard_runs_under_the_request_timeout() {
    let h = Harness::with_config(ApiConfig {
        request_timeout: std::time::Duration::from_millis(300),
        shared_counter_timeout: std::time::Duration::from_secs(3600),
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let app = app_with(&h, Arc::new(HangingCounter));
    for token in [Some(token.as_str()), None] {
        let started = std::time::Instant::now();
        let r = send(&app, req("GET", "/v1/_ping", token)).await;
        r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
        assert_eq!(r.header("retry-after"), "1");
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(300)
                && took < std::time::Duration::from_secs(3),
            "{took:?}"
        );
    }
}
