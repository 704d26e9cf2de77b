//! Test support for black-box HTTP tests: [`spawn_app`] starts the real router on
//! `127.0.0.1:0` over a fresh database (a private SQLite file or a new Postgres database) with a
//! settable [`TestClock`], seeds two organizations through the same admin functions the CLI
//! uses, and hands back typed HTTP clients. [`both_backends!`] runs one test body on SQLite and
//! on Postgres.
//!
//! It never shares state between tests and never sleeps: time moves only through the clock.
//! When Postgres is unreachable the Postgres variants fail loudly, unless
//! `SLOTBOOK_SKIP_POSTGRES=1` is set (refused when `CI=true`), in which case they print a
//! warning and return early.

#![allow(
    clippy::disallowed_methods,
    reason = "test kit: fixtures and harness may read the wall clock and the test environment"
)]
// This crate only ever runs inside tests: a failed setup step must abort the test with its
// message, so unwrap/expect/panic are the right tools here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;
pub mod browser;
mod client;
mod clock;
mod counting;
pub mod proxy;
mod receiver;
mod seed;
mod smtp;
pub mod time;

pub use app::{
    Backend, CLOCK_START, EventTypeSpec, Host, LOOPBACK_NAME, Minted, OAuthClientFixture,
    OAuthTokens, OrgFixture, TestApp, spawn_app, spawn_app_counting, spawn_app_stalled,
    spawn_app_strict_webhooks, spawn_app_with,
};
pub use browser::Browser;
pub use client::{ApiClient, Resp, is_request_id};
pub use clock::TestClock;
pub use counting::GuardDbWork;
pub use http_api::ApiConfig;
pub use http_api::auth_cache::AUTH_CACHE_TTL;
pub use proxy::TcpProxy;
pub use receiver::{Received, Receiver};
pub use smtp::{MailSink, ReceivedMail, SinkMode};

/// Every active and reserved scope (what the fixture tokens hold).
pub const ALL_SCOPES: &[&str] = domain::access::ACTIVE_AND_RESERVED_SCOPES;

/// Spawns an app on `backend` and runs `test` with it; returns early (after a loud warning) when
/// Postgres is skipped.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(app) = spawn_app(backend).await {
        test(app).await;
    }
}

/// As [`run`] with an [`ApiConfig`] override (e.g. small rate limits).
pub async fn run_with<F, Fut>(backend: Backend, config: ApiConfig, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(app) = spawn_app_with(backend, config).await {
        test(app).await;
    }
}

/// As [`run`] with the production webhook policy (no `http://`, no loopback targets).
pub async fn run_strict_webhooks<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(app) = spawn_app_strict_webhooks(backend).await {
        test(app).await;
    }
}

pub use store_contract::faults::Stall;

/// As [`run_with`] over a store whose booking writes wait at `begin` until the [`Stall`] handed
/// to `test` opens.
pub async fn run_stalled<F, Fut>(backend: Backend, config: ApiConfig, test: F)
where
    F: FnOnce(TestApp, std::sync::Arc<Stall>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stall = Stall::new();
    if let Some(app) = spawn_app_stalled(backend, config, stall.clone()).await {
        test(app, stall).await;
    }
}

/// As [`run_with`] with the guard's database work counted ([`spawn_app_counting`]).
pub async fn run_counting<F, Fut>(backend: Backend, config: ApiConfig, test: F)
where
    F: FnOnce(TestApp, std::sync::Arc<GuardDbWork>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some((app, work)) = spawn_app_counting(backend, config).await {
        test(app, work).await;
    }
}

/// A fresh idempotency key.
pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs each named `async fn(TestApp)` on both backends: `both_backends!(a, b)` expands to the
/// tests `a::sqlite`, `a::postgres`, `b::sqlite`, `b::postgres`. With `config = EXPR;` first,
/// every app is spawned with that [`ApiConfig`].
#[macro_export]
macro_rules! both_backends {
    (config = $cfg:expr; $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::run_with($crate::Backend::Sqlite, $cfg, super::$name).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::run_with($crate::Backend::Postgres, $cfg, super::$name).await
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::run($crate::Backend::Sqlite, super::$name).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::run($crate::Backend::Postgres, super::$name).await
                }
            }
        )+
    };
}
