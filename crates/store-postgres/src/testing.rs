//! Per-test PostgreSQL databases: [`fresh_database`] creates a uniquely named database,
//! migrates it and hands back a store with a small pool.
//!
//! Test databases are named `slotbook_test_<epoch seconds>_<uuid>`; each call drops, on the way,
//! test databases created more than [`STALE_AFTER_SECS`] ago, so runs do not pile up. Never
//! touches a database without that prefix. (This module reads the system clock for that, and
//! only for that.)
//!
//! Compiled only with the `testing` feature, which test kits and this crate's own tests enable:
//! it reads the clock and the environment, so it never ships in a production build.

#![allow(
    clippy::disallowed_methods,
    reason = "test support (feature `testing`): names test databases by the wall clock and reads the test environment"
)]

use crate::PgStore;
use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where tests find the server when `SLOTBOOK_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Connections per test store: many tests run in parallel against `max_connections = 100`.
pub const TEST_POOL_SIZE: u32 = 4;

/// How long a test store's callers wait for a pooled connection.
pub const TEST_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Test databases older than this are dropped by the next [`fresh_database`]. No test runs
/// this long; a whole-workspace run creates ~300 databases, so a long bound (it was 3 h) let a
/// day of parallel runs fill the disk.
pub const STALE_AFTER_SECS: u64 = 15 * 60;

const PREFIX: &str = "slotbook_test_";

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Drops test databases created long ago; failures are ignored (another run may be doing it).
async fn drop_stale(admin: &mut PgConnection, now: u64) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'slotbook\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        let stale = created.is_some_and(|c| c + STALE_AFTER_SECS < now);
        let safe = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if stale && safe {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// The maintenance URL: `SLOTBOOK_TEST_POSTGRES_URL` or [`DEFAULT_TEST_URL`].
pub fn server_url() -> String {
    std::env::var("SLOTBOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_owned())
}

/// Whether a Postgres test that cannot reach its server may skip (loudly) instead of failing:
/// only when `SLOTBOOK_SKIP_POSTGRES=1` is set, and never when `CI=true` (CI runs every test).
pub fn skip_allowed() -> bool {
    let skip = std::env::var("SLOTBOOK_SKIP_POSTGRES").as_deref() == Ok("1");
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if skip && ci {
        eprintln!("SLOTBOOK_SKIP_POSTGRES=1 is refused when CI=true: this Postgres test fails.");
    }
    skip && !ci
}

/// Replaces the database name (the last path segment) of `url`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].rfind('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Creates and migrates a fresh database; returns its store and URL.
pub async fn fresh_database() -> anyhow::Result<(PgStore, String)> {
    let server = server_url();
    let mut admin = PgConnection::connect(&server).await.with_context(|| {
        format!(
            "PostgreSQL IS REQUIRED FOR THESE TESTS but {server} is unreachable. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or point \
             SLOTBOOK_TEST_POSTGRES_URL at a server where the user may create databases"
        )
    })?;
    let now = unix_now();
    drop_stale(&mut admin, now).await;
    let name = format!("{PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating test database {name}"))?;
    admin.close().await.ok();
    let url = with_database(&server, &name);
    // Tests queue many writers on a 4-connection pool on a shared, loaded machine: they wait
    // for a connection as long as a test may run, not the server's 2 s (the outage tests build
    // their own store or server with the short timeout).
    let settings = crate::PgSettings {
        max_connections: TEST_POOL_SIZE,
        acquire_timeout: TEST_ACQUIRE_TIMEOUT,
    };
    let store = PgStore::connect_settings(&url, &settings).await?;
    store.migrate().await?;
    Ok((store, url))
}
