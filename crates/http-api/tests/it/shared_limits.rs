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

#[tokio::test]
async fn a_failing_counter_store_fails_open() {
    let h = Harness::with_config(ApiConfig {
        authenticated_per_minute: 1,
        ..ApiConfig::default()
    })
    .await;
    let (_, token) = h.mint(&["user:read"], None).await;
    let app = app_with(&h, Arc::new(BrokenCounter));
    for _ in 0..3 {
        let r = send(&app, req("GET", "/v1/_ping", Some(&token))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), "1");
    }
}
