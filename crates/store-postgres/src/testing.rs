//! Per-test PostgreSQL databases: [`fresh_database`] creates a uniquely named database,
//! migrates it and hands back a store with a small pool.
//!
//! Never touches an existing database other than the maintenance connection's `CREATE
//! DATABASE`; never drops anything.

use crate::PgStore;
use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where tests find the server when `SLOTBOOK_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Connections per test store: many tests run in parallel against `max_connections = 100`.
pub const TEST_POOL_SIZE: u32 = 4;

/// The maintenance URL: `SLOTBOOK_TEST_POSTGRES_URL` or [`DEFAULT_TEST_URL`].
pub fn server_url() -> String {
    std::env::var("SLOTBOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_owned())
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
    let name = format!("slotbook_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating test database {name}"))?;
    admin.close().await.ok();
    let url = with_database(&server, &name);
    let store = PgStore::connect_with(&url, TEST_POOL_SIZE).await?;
    store.migrate().await?;
    Ok((store, url))
}
