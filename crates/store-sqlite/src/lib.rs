//! SQLite adapter for Slotbook's storage ports: the embedded default store.
//!
//! [`SqliteStore`] implements every port of [`domain::ports`] (except the optional
//! `RateLimitCounter`) on one SQLite database in WAL mode: the hot reads by key on the calling
//! thread (`sync_read`), the other reads through a small pool of read connections
//! ([`ReadPool`]), and one writer connection for every write (see `Inner::writer`).
//! Instants are stored as INTEGER epoch milliseconds, identifiers as 16-byte UUID blobs and
//! nested values as JSON text; every tenant row carries its `organization_id` and every query
//! filters by it.
//!
//! Writers are serialised twice: inside this process by an async write lock (so a waiting writer
//! never sits on a pooled connection that the lock holder may need for a read), and across
//! processes by `BEGIN IMMEDIATE` with a busy timeout. The double-booking guard is the overlap
//! check that [`domain::ports::BookingTx::insert_booking`] runs inside that transaction.
//!
//! This crate must never interpret business rules beyond what the port contracts state, never
//! use the compile-time `query!` macros (the build must not need a database) and never return or
//! change another organization's rows.

mod bookings;
mod codec;
mod directory;
mod event_types;
mod files;
mod idempotency;
mod invitee_links;
mod notifications;
mod oauth;
mod outbox;
mod read_pool;
mod schedules;
mod slot_inputs;
mod sync_read;
mod tokens;
mod tx;
mod webhooks;

use anyhow::Context as _;
use async_trait::async_trait;
use domain::ports::{Storage, StoreError, StoreUnavailable, UnavailableKind};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use files::shared_files;
pub use read_pool::{ReadConn, ReadPool};
pub use tx::SqliteBookingTx;

/// How long a writer waits for the database write lock (in-process queue, then SQLite's busy
/// handler) before giving up with a lock timeout.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool. SQLite has one writer at a time; the rest serve reads.
const MAX_CONNECTIONS: u32 = 8;

/// How long a caller waits for a pooled connection by default before the store reports
/// itself unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Writers that may wait for this process's write turn at once by default; one more is
/// refused at once as unavailable (`QueueFull`) instead of queueing without bound.
pub const WRITER_QUEUE: usize = 128;

/// SQLite's `synchronous` for a file database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync at every commit: an acknowledged write survives a power loss (the default).
    Full,
    /// fsync at checkpoints only: a power loss may lose the last commits (never corrupts).
    Normal,
}

/// How [`SqliteStore::connect_with`] opens the database.
#[derive(Debug, Clone, Copy)]
pub struct SqliteSettings {
    /// Write-lock wait (in-process turn, then SQLite's busy handler).
    pub lock_timeout: Duration,
    /// Pooled-connection wait.
    pub acquire_timeout: Duration,
    /// Durability of a file database (a throwaway `sqlite::memory:` one always runs `OFF`).
    pub synchronous: Synchronous,
    /// Bound of the in-process writer queue.
    pub writer_queue: usize,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            lock_timeout: LOCK_TIMEOUT,
            acquire_timeout: ACQUIRE_TIMEOUT,
            synchronous: Synchronous::Full,
            writer_queue: WRITER_QUEUE,
        }
    }
}

/// The SQLite store. Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Reads ([`ReadPool`]: hands connections back without sqlx's ping).
    pool: ReadPool,
    /// The hot plain reads, on the calling thread ([`sync_read`]).
    sync_reads: sync_read::SyncReads,
    /// The one connection every write goes through. SQLite drops a connection's whole page
    /// cache when another connection has written since its last transaction; with one writer
    /// connection a write finds the pages the previous write left (a booking touches a dozen
    /// B-trees).
    writer: SqlitePool,
    /// `synchronous` of acknowledged writes (the configured level) and of the writes whose
    /// loss in a power cut cannot lose an acknowledged answer (see
    /// [`SqliteStore::begin_unsynced_write`]).
    durable: Level,
    unsynced: Level,
    /// In-process writer queue (see the crate documentation); it guards the level the writer
    /// connection is set to, `None` when not known.
    write_lock: Arc<Mutex<Option<Level>>>,
    lock_timeout: Duration,
    /// Writers waiting for (or holding) the turn, and the bound of that number.
    writers: std::sync::atomic::AtomicUsize,
    writer_queue: usize,
    /// Notified after every committed write transaction: wakes the webhook worker at once.
    commit_signal: Arc<tokio::sync::Notify>,
    /// Set for `sqlite::memory:`: the scratch directory removed when the store is dropped.
    _scratch: Option<ScratchDir>,
}

/// A private directory holding a throwaway database, deleted on drop.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), error = %e, "could not remove scratch database");
        }
    }
}

fn is_memory_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest == ":memory:" || rest.starts_with(":memory:?") || rest.contains("mode=memory")
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, e.g. `sqlite://slotbook.db`.
    ///
    /// `sqlite::memory:` gives a private throwaway database: a file in a fresh directory under
    /// the system temp dir, removed when the last clone of the store is dropped. (A real shared
    /// in-memory database would use SQLite's shared-cache mode, whose table locks behave unlike
    /// a file database's; a scratch file keeps one set of locking semantics everywhere.)
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with_lock_timeout(url, LOCK_TIMEOUT).await
    }

    /// As [`SqliteStore::connect`], with another write-lock timeout than [`LOCK_TIMEOUT`].
    pub async fn connect_with_lock_timeout(
        url: &str,
        lock_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let settings = SqliteSettings {
            lock_timeout,
            ..SqliteSettings::default()
        };
        Self::connect_with(url, &settings).await
    }

    /// As [`SqliteStore::connect`], with explicit settings.
    ///
    /// A file database that does not exist yet is created with mode 0600 (its `-wal` and
    /// `-shm` files take the same mode from SQLite); existing files readable by others are
    /// reported with a warning.
    pub async fn connect_with(url: &str, settings: &SqliteSettings) -> anyhow::Result<Self> {
        let lock_timeout = settings.lock_timeout;
        let (options, scratch, synchronous) = if is_memory_url(url) {
            let dir = std::env::temp_dir().join(format!("slotbook-mem-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating scratch directory {}", dir.display()))?;
            let options = SqliteConnectOptions::new().filename(dir.join("slotbook.db"));
            // A throwaway database needs no durability.
            (options, Some(ScratchDir(dir)), SqliteSynchronous::Off)
        } else {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("parsing database url {url}"))?;
            files::create_private(options.get_filename())?;
            let synchronous = match settings.synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            };
            (options, None, synchronous)
        };
        let db_file = scratch
            .is_none()
            .then(|| options.get_filename().to_path_buf());
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(lock_timeout)
            .pragma("wal_autocheckpoint", "10000")
            .pragma("cache_size", "-16000");
        let (durable, unsynced) = match synchronous {
            SqliteSynchronous::Off => (Level::Off, Level::Off),
            SqliteSynchronous::Normal => (Level::Normal, Level::Normal),
            _ => (Level::Full, Level::Normal),
        };
        let writer_options = options.clone();
        let db_path = options.get_filename().to_path_buf();
        let pool = ReadPool::open(options, MAX_CONNECTIONS, settings.acquire_timeout)
            .await
            .with_context(|| format!("opening SQLite database {url}"))?;
        // Opened after `pool`, which created the file and set WAL mode.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(writer_options);
        if let Some(db) = &db_file {
            files::warn_if_shared(db);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                sync_reads: sync_read::SyncReads::new(db_path, lock_timeout),
                writer,
                durable,
                unsynced,
                write_lock: Arc::new(Mutex::new(None)),
                lock_timeout,
                writers: std::sync::atomic::AtomicUsize::new(0),
                writer_queue: settings.writer_queue.max(1),
                commit_signal: Arc::new(tokio::sync::Notify::new()),
                _scratch: scratch,
            }),
        })
    }

    /// Applies the forward-only migrations in `migrations/sqlite`.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("../../migrations/sqlite")
            .run(&self.inner.writer)
            .await
            .context("applying SQLite migrations")
    }

    /// The read connections (diagnostics, tests, benchmarks).
    pub fn pool(&self) -> &ReadPool {
        &self.inner.pool
    }

    /// The synchronous read connections of the hot plain reads.
    pub(crate) fn sync_reads(&self) -> &sync_read::SyncReads {
        &self.inner.sync_reads
    }

    /// Diagnostic: the `synchronous` level (0 `OFF`, 1 `NORMAL`, 2 `FULL`) the writer
    /// connection committed its last write with, read in the write turn.
    pub async fn writer_synchronous(&self) -> anyhow::Result<i64> {
        let _turn = self.write_turn().await?;
        let level = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&self.inner.writer)
            .await
            .context("reading the writer connection's synchronous level")?;
        Ok(level)
    }

    /// Diagnostic: pairs of time-holding bookings of one organization and host whose blocked
    /// ranges overlap, not counting seats of the same group slot (both written as seats, same
    /// event type and start).
    /// Zero in a healthy database.
    pub async fn count_overlapping_bookings(&self) -> anyhow::Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings a JOIN bookings b
               ON a.organization_id = b.organization_id
              AND a.host_user_id = b.host_user_id
              AND a.uid < b.uid
              AND a.blocked_start < b.blocked_end
              AND a.blocked_end > b.blocked_start
             WHERE a.status IN ('confirmed', 'pending')
               AND b.status IN ('confirmed', 'pending')
               AND NOT (a.shares_seats AND b.shares_seats
                        AND a.event_type_id = b.event_type_id AND a.start_at = b.start_at)",
        )
        .fetch_one(&self.inner.pool)
        .await
        .context("counting overlapping bookings")?;
        Ok(n)
    }

    /// Diagnostic: `PRAGMA integrity_check`, its rows joined by newlines (`ok` in a healthy
    /// database; the fault scorecard runs it after a SIGKILL).
    pub async fn integrity_check(&self) -> anyhow::Result<String> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.inner.pool)
            .await
            .context("running PRAGMA integrity_check")?;
        Ok(rows.join("\n"))
    }

    /// Whether the database holds anything keyed by the pepper: personal access tokens, OAuth
    /// clients or tokens, webhook subscriptions (sealed secrets) or invitee links. A new pepper
    /// would make all of them unusable.
    pub async fn holds_peppered_secrets(&self) -> anyhow::Result<bool> {
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM personal_access_tokens)
                 OR EXISTS (SELECT 1 FROM oauth_clients)
                 OR EXISTS (SELECT 1 FROM oauth_tokens)
                 OR EXISTS (SELECT 1 FROM webhooks)
                 OR EXISTS (SELECT 1 FROM invitee_links)",
        )
        .fetch_one(&self.inner.pool)
        .await
        .context("looking for tokens in the database")?;
        Ok(held)
    }

    /// Notified after every committed write transaction (outbox messages and deliveries are
    /// only ever written in one): the in-process wake-up of the webhook worker.
    pub fn commit_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.commit_signal.clone()
    }

    /// Diagnostic: writers of this process holding or waiting for the write turn.
    pub fn writers(&self) -> usize {
        self.inner
            .writers
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits for this process's turn to write, at most the lock timeout; refused at once when
    /// the writer queue is full.
    async fn write_turn(&self) -> Result<WriteTurn, TurnRefused> {
        let queued = Queued::join(&self.inner).ok_or(TurnRefused::QueueFull)?;
        let guard = tokio::time::timeout(
            self.inner.lock_timeout,
            self.inner.write_lock.clone().lock_owned(),
        )
        .await
        .map_err(|_| TurnRefused::Timeout)?;
        Ok(WriteTurn {
            level: guard,
            _queued: queued,
        })
    }

    /// Waits for the write turn and opens a `BEGIN IMMEDIATE` transaction that commits with
    /// the configured `synchronous` level.
    async fn begin_write(&self) -> Result<WriteTx, WriteBeginError> {
        self.begin_write_as(self.inner.durable).await
    }

    /// [`Self::begin_write`] committing without waiting for `fsync` (`synchronous=NORMAL`),
    /// for writes no answer depends on: the idempotency reservation
    /// and the notification worker's bookkeeping. Safe because the WAL is one file written in
    /// commit order: the next commit with the configured level (`FULL` by default) makes
    /// every earlier frame durable. A reservation lost in a power cut therefore belongs to a
    /// request that was never answered (the booking that answers it commits `FULL` after
    /// it), and the client's retry takes the key afresh; lost notification bookkeeping is
    /// done again (a fan-out is redone whole; an e-mail whose `sent` mark was lost is sent
    /// again: at least once, as after a crash mid-send). (ARCHITECTURE.md, Decisions.)
    ///
    /// These writes never leave work for the webhook worker, so their commit does not raise the
    /// commit signal (a raised signal costs the worker an empty claim, one more write turn).
    pub(crate) async fn begin_unsynced_write(&self) -> Result<WriteTx, WriteBeginError> {
        let mut w = self.begin_write_as(self.inner.unsynced).await?;
        w.signal = None;
        Ok(w)
    }

    /// Opens a write on the writer connection that commits with `level`: the level is set in
    /// the same trip as `BEGIN IMMEDIATE`.
    async fn begin_write_as(&self, level: Level) -> Result<WriteTx, WriteBeginError> {
        let mut guard = self.write_turn().await.map_err(WriteBeginError::from)?;
        // Unknown until the statement answers: one that fails half-way may have set it.
        *guard.level = None;
        let begin = format!("{}; BEGIN IMMEDIATE", level.pragma_sql());
        let tx = self
            .inner
            .writer
            .begin_with(sqlx::AssertSqlSafe(begin))
            .await;
        let tx = tx.map_err(|e| {
            if is_lock_error(&e) {
                WriteBeginError::Lock
            } else {
                WriteBeginError::Other(classify(e).context("BEGIN IMMEDIATE"))
            }
        })?;
        *guard.level = Some(level);
        Ok(WriteTx {
            tx,
            signal: Some(self.inner.commit_signal.clone()),
            _turn: guard,
        })
    }

    /// Runs one autocommit write statement in this process's write turn, committing with the
    /// configured `synchronous` level.
    async fn write_one(&self, query: WriteQuery<'_>) -> Result<SqliteQueryResult, sqlx::Error> {
        self.write_one_as(self.inner.durable, query).await
    }

    /// [`Self::write_one`] committing like [`Self::begin_unsynced_write`].
    async fn write_one_unsynced(
        &self,
        query: WriteQuery<'_>,
    ) -> Result<SqliteQueryResult, sqlx::Error> {
        self.write_one_as(self.inner.unsynced, query).await
    }

    /// Sets the writer connection to `level` first when it is not known to be there (one trip
    /// more, only when the level changes).
    async fn write_one_as(
        &self,
        level: Level,
        query: WriteQuery<'_>,
    ) -> Result<SqliteQueryResult, sqlx::Error> {
        let mut turn = self.write_turn().await.map_err(TurnRefused::into_sqlx)?;
        let mut conn = self.inner.writer.acquire().await?;
        if *turn.level != Some(level) {
            *turn.level = None;
            sqlx::raw_sql(level.pragma_sql())
                .execute(&mut *conn)
                .await?;
            *turn.level = Some(level);
        }
        query.execute(&mut *conn).await
    }
}

/// A `synchronous` level of the writer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Off,
    Normal,
    Full,
}

impl Level {
    fn pragma_sql(self) -> &'static str {
        match self {
            Level::Off => "PRAGMA synchronous = OFF",
            Level::Normal => "PRAGMA synchronous = NORMAL",
            Level::Full => "PRAGMA synchronous = FULL",
        }
    }
}

/// One write statement with its arguments bound.
type WriteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Holds this process's write turn and its place in the writer count.
struct WriteTurn {
    /// The writer connection's level, guarded by the turn.
    level: OwnedMutexGuard<Option<Level>>,
    _queued: Queued,
}

/// One writer counted against the queue bound until dropped.
struct Queued(Arc<Inner>);

impl Queued {
    fn join(inner: &Arc<Inner>) -> Option<Self> {
        use std::sync::atomic::Ordering;
        let before = inner.writers.fetch_add(1, Ordering::AcqRel);
        let queued = Queued(inner.clone());
        // The turn holder counts too: `writer_queue` writers may wait behind it.
        (before <= inner.writer_queue).then_some(queued)
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.0
            .writers
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A write transaction holding this process's write turn. Fields drop in order: the
/// transaction (rolling back unless committed) before the turn is released.
pub(crate) struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    /// Raised after the commit (wakes the webhook worker); `None` for writes that never
    /// leave it work.
    signal: Option<Arc<tokio::sync::Notify>>,
    _turn: WriteTurn,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, signal, _turn } = self;
        tx.commit().await?;
        if let Some(signal) = signal {
            signal.notify_one();
        }
        Ok(())
    }

    /// Commits a transaction that left `work` rows for the webhook worker (claimed or
    /// inserted), with the commit signal only when `work > 0`. The signal wakes the worker; a
    /// worker woken by its own empty claim would claim again at once, and the delivery tasks
    /// would wake each other in a loop that keeps the idle server busy and the writer taken.
    pub(crate) async fn commit_waking(mut self, work: usize) -> Result<(), sqlx::Error> {
        if work == 0 {
            self.signal = None;
        }
        self.commit().await
    }
}

/// Why a writer did not get its turn.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub(crate) enum TurnRefused {
    #[error("timed out waiting for the database write lock")]
    Timeout,
    #[error("too many writers are waiting for the database write lock")]
    QueueFull,
}

impl TurnRefused {
    fn kind(self) -> UnavailableKind {
        match self {
            TurnRefused::Timeout => UnavailableKind::LockTimeout,
            TurnRefused::QueueFull => UnavailableKind::QueueFull,
        }
    }

    /// As a driver error (for statements that report `sqlx::Error`); [`classify`] recognises
    /// it again.
    fn into_sqlx(self) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, self))
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteBeginError {
    /// No write turn or no SQLite write lock in time (booking writes answer `LockTimeout`).
    #[error("timed out waiting for the database write lock")]
    Lock,
    /// Anything else, a full writer queue included (its chain holds [`StoreUnavailable`]).
    #[error(transparent)]
    Other(anyhow::Error),
}

impl From<TurnRefused> for WriteBeginError {
    fn from(e: TurnRefused) -> Self {
        match e {
            TurnRefused::Timeout => WriteBeginError::Lock,
            TurnRefused::QueueFull => {
                WriteBeginError::Other(anyhow::Error::new(StoreUnavailable::new(e.kind(), e)))
            }
        }
    }
}

impl WriteBeginError {
    /// As an `anyhow::Error` whose chain says the store is unavailable when it is.
    pub(crate) fn into_anyhow(self) -> anyhow::Error {
        match self {
            WriteBeginError::Lock => {
                anyhow::Error::new(StoreUnavailable::bare(UnavailableKind::LockTimeout))
                    .context("taking the database write lock")
            }
            WriteBeginError::Other(e) => e,
        }
    }
}

impl From<WriteBeginError> for StoreError {
    fn from(e: WriteBeginError) -> Self {
        StoreError::Unknown(e.into_anyhow())
    }
}

/// A driver error as an `anyhow::Error`, marked [`StoreUnavailable`] when it means the store
/// cannot serve now (no connection in time, the connection's worker gone, SQLite busy or
/// locked past the busy timeout, no write turn).
pub(crate) fn classify(e: sqlx::Error) -> anyhow::Error {
    match unavailable_kind(&e) {
        Some(kind) => anyhow::Error::new(StoreUnavailable::new(kind, e)),
        None => anyhow::Error::new(e),
    }
}

fn unavailable_kind(e: &sqlx::Error) -> Option<UnavailableKind> {
    match e {
        sqlx::Error::PoolTimedOut => Some(UnavailableKind::PoolTimeout),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Some(UnavailableKind::ConnectionLost)
        }
        sqlx::Error::Io(io) => Some(
            io.get_ref()
                .and_then(|i| i.downcast_ref::<TurnRefused>())
                .map_or(UnavailableKind::ConnectionLost, |r| r.kind()),
        ),
        sqlx::Error::Database(_) if is_lock_error(e) => Some(UnavailableKind::LockTimeout),
        _ => None,
    }
}

/// SQLITE_BUSY / SQLITE_LOCKED (any extended code), or no connection in time.
pub(crate) fn is_lock_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6)),
        _ => false,
    }
}

/// The field a unique-constraint violation is about, from SQLite's message
/// (`UNIQUE constraint failed: users.username`): the first needle found names it, else `id`.
pub(crate) fn duplicate_field(
    e: &sqlx::Error,
    needles: &[(&str, &'static str)],
) -> Option<&'static str> {
    let db = e.as_database_error()?;
    let msg = db.message();
    let unique = db.is_unique_violation() || msg.contains("UNIQUE constraint failed");
    if !unique {
        return None;
    }
    Some(
        needles
            .iter()
            .find(|(needle, _)| msg.contains(needle))
            .map(|(_, field)| *field)
            .unwrap_or("id"),
    )
}

/// Appends keyset pagination for `page` to a list query ordered by `(key, id)`: only rows after
/// its cursor, that order (`desc` or ascending) and `LIMIT limit + 1` (the extra row only
/// signals `has_more`).
pub(crate) fn push_keyset(
    qb: &mut sqlx::QueryBuilder<sqlx::Sqlite>,
    key: &str,
    id: &str,
    desc: bool,
    page: &domain::pagination::PageRequest,
) {
    if let Some(c) = &page.after {
        qb.push(format!(
            " AND ({key}, {id}) {} (",
            if desc { "<" } else { ">" }
        ));
        match &c.value {
            domain::pagination::CursorValue::Int(n) => qb.push_bind(*n),
            domain::pagination::CursorValue::Text(t) => qb.push_bind(t.clone()),
        };
        qb.push(", ").push_bind(c.id).push(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    qb.push(format!(" ORDER BY {key} {dir}, {id} {dir} LIMIT "))
        .push_bind(i64::from(page.limit.get()) + 1);
}

/// Wraps a driver error with what we were doing.
pub(crate) fn db_err(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Unknown(classify(e).context(what))
}

#[async_trait]
impl Storage for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.inner.pool)
            .await
            .map_err(db_err("ping"))?;
        Ok(())
    }

    async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.sync_reads.close();
        self.inner.pool.close().await;
    }
}
