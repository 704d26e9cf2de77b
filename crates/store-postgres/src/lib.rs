//! PostgreSQL adapter for Slotbook's storage ports: the production and scale-out store.
//!
//! [`PgStore`] implements every port of [`domain::ports`] with runtime-checked `sqlx` queries
//! (the build never needs a live database) over the schema in `migrations/postgres/`.
//!
//! Architecture invariants:
//! - Every query on tenant data filters by `organization_id`; keys and unique constraints start
//!   with it, so the schema can be distributed by organization. The named global exceptions are
//!   the username index, the token lookup index, outbox claiming (a worker drains all tenants)
//!   and the rate-limit counters (buckets are opaque keys).
//! - Double booking is refused by the database itself: the exclusion constraint
//!   `bookings_no_overlap` (GiST over `tstzrange`), never by application code alone.
//! - This crate never reads the clock: every instant comes from the caller (`now` arguments).
//! - Instants are stored truncated to whole milliseconds, like the SQLite store, so that keyset
//!   cursors (which carry epoch milliseconds) compare exactly.

mod booking_rows;
mod bookings;
mod directory;
mod event_types;
mod idempotency;
mod invitee_links;
mod notifications;
mod oauth;
/// The persisted-JSON codec shared with the SQLite store (`jsonb` carrier).
use store_json::value as json;
mod outbox;
mod rate_limit;
mod schedules;
mod slot_inputs;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod webhooks;

pub use bookings::is_no_overlap_violation;
pub use rate_limit::PgRateLimitCounter;

use async_trait::async_trait;
use domain::ports::{Storage, StoreError, StoreUnavailable, UnavailableKind};
use jiff::Timestamp;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// How long a booking write waits for the per-event-type slot lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a caller waits for a pooled connection by default. With the database gone,
/// every request fails after this long as unavailable (503) instead of hanging.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Pool settings of [`PgStore::connect_settings`].
#[derive(Debug, Clone, Copy)]
pub struct PgSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// The PostgreSQL store: a connection pool plus a few knobs. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    lock_timeout: Duration,
    rate_limit_hits: Arc<AtomicU64>,
}

impl PgStore {
    /// Connects with a pool of at most 10 connections.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, 10).await
    }

    /// Connects with a pool of at most `max_connections` connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let settings = PgSettings {
            max_connections,
            ..PgSettings::default()
        };
        Self::connect_settings(url, &settings).await
    }

    /// Connects with explicit pool settings.
    pub async fn connect_settings(url: &str, settings: &PgSettings) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect(url)
            .await?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            rate_limit_hits: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same store with another slot-lock timeout (how long [`domain::ports::BookingStore::begin`]
    /// waits before failing with `LockTimeout`).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Applies the forward-only migrations in `migrations/postgres/`.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Diagnostic: pairs of time-holding bookings of one organization and host whose blocked
    /// time overlaps and that are not seats of one group slot. Always 0 unless the database was
    /// tampered with.
    pub async fn count_overlapping_bookings(&self) -> anyhow::Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM bookings a JOIN bookings b
               ON a.organization_id = b.organization_id
              AND a.host_user_id = b.host_user_id
              AND a.uid < b.uid
              AND a.blocked && b.blocked
              AND a.slot_key <> b.slot_key
            WHERE a.status IN ('confirmed', 'pending')
              AND b.status IN ('confirmed', 'pending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}

#[async_trait]
impl Storage for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unknown)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Any database error as an opaque store error (marked unavailable when it is, see
/// [`classify`]).
pub(crate) fn unknown(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Unknown(classify(e))
}

/// An error as an `anyhow::Error`, marked [`StoreUnavailable`] when the driver error at its
/// root means the database cannot serve now: no pooled connection within the acquire timeout,
/// a refused, reset or closed connection (I/O, TLS, SQLSTATE class 08), a server shutting down
/// or starting up (57P01–57P03), too many connections (53300), or a lock or statement
/// timeout (55P03, 57014).
pub(crate) fn classify(e: impl Into<anyhow::Error>) -> anyhow::Error {
    let e = e.into();
    let kind = e.downcast_ref::<sqlx::Error>().and_then(unavailable_kind);
    match kind {
        Some(kind) if domain::ports::unavailable_kind(&e).is_none() => {
            anyhow::Error::new(StoreUnavailable::new(kind, e))
        }
        _ => e,
    }
}

/// The [`UnavailableKind`] a driver error reports, if any.
pub fn unavailable_kind(e: &sqlx::Error) -> Option<UnavailableKind> {
    match e {
        sqlx::Error::PoolTimedOut => Some(UnavailableKind::PoolTimeout),
        sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            Some(UnavailableKind::ConnectionLost)
        }
        sqlx::Error::Database(_) => {
            let (code, _) = db_error(e)?;
            match code.as_str() {
                c if c.starts_with("08") => Some(UnavailableKind::ConnectionLost),
                "57P01" | "57P02" | "57P03" => Some(UnavailableKind::ConnectionLost),
                "53300" => Some(UnavailableKind::PoolTimeout),
                "55P03" | "57014" => Some(UnavailableKind::LockTimeout),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An instant as bound to the database: truncated to whole milliseconds.
pub(crate) fn ts(t: Timestamp) -> jiff_sqlx::Timestamp {
    jiff_sqlx::Timestamp::from(ms_floor(t))
}

/// An exclusive upper bound as bound to the database: rounded up to whole milliseconds so that
/// a range never shrinks.
pub(crate) fn ts_ceil(t: Timestamp) -> jiff_sqlx::Timestamp {
    let floor = ms_floor(t);
    if floor == t {
        jiff_sqlx::Timestamp::from(t)
    } else {
        jiff_sqlx::Timestamp::from(
            floor
                .checked_add(jiff::SignedDuration::from_millis(1))
                .unwrap_or(floor),
        )
    }
}

/// Truncates to whole milliseconds (towards negative infinity).
pub(crate) fn ms_floor(t: Timestamp) -> Timestamp {
    let ms = t.as_millisecond();
    let back = Timestamp::from_millisecond(ms).unwrap_or(t);
    if back > t {
        Timestamp::from_millisecond(ms - 1).unwrap_or(back)
    } else {
        back
    }
}

/// An optional instant as bound to the database.
pub(crate) fn ts_opt(t: Option<Timestamp>) -> Option<jiff_sqlx::Timestamp> {
    t.map(ts)
}

/// SQLSTATE and constraint name of a database error, if it is one.
pub(crate) fn db_error(e: &sqlx::Error) -> Option<(String, Option<String>)> {
    let d = e.as_database_error()?;
    Some((
        d.code().map(|c| c.into_owned()).unwrap_or_default(),
        d.constraint().map(str::to_owned),
    ))
}

/// The field a unique violation (23505) is about, by constraint name.
pub(crate) fn duplicate_field(e: &sqlx::Error) -> Option<&'static str> {
    let (code, constraint) = db_error(e)?;
    if code != "23505" {
        return None;
    }
    Some(match constraint.as_deref() {
        Some("users_username_key") => "username",
        Some("users_email_key") => "email",
        Some("event_types_slug_key") => "slug",
        Some("personal_access_tokens_name_key") => "name",
        Some("personal_access_tokens_lookup_key") => "lookup",
        Some("bookings_pkey") => "uid",
        _ => "id",
    })
}
