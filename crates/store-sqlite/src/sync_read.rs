//! Reads on the calling thread: the hot read paths (a slot listing, a booking page) through
//! `rusqlite` connections that run the statement on the thread that asks, without a hand-off.
//!
//! Every sqlx statement on SQLite is a command to the connection's own worker thread: a futex
//! wake of that thread, two context switches and a wake of the awaiting task per statement and
//! per row batch. perf of `GET /v1/slots` put 30 % of the server's samples in those hand-offs
//! (BENCHMARKS.md "Postgres trips and SQLite B-trees"), more than computing the slots. A read
//! of the few rows a listing needs takes tens of microseconds on a local file, less than one
//! hand-off, so it runs inline on the runtime thread like any other short computation.
//!
//! What may read here: plain reads by key or by a bounded range, whose statements are served
//! from indexes (one event type, a host's schedules, a 31-day window of one host's bookings).
//! Long scans keep to the sqlx [`crate::ReadPool`], whose worker threads keep them off the
//! runtime. Writes never come here: every write goes through the one writer connection.
//!
//! Consistency is that of the read pool: WAL mode, each statement its own read transaction, so
//! it sees every transaction committed before it began (a write that was acknowledged is
//! visible to the next read on any connection). A WAL reader never waits for the writer.
//!
//! The connections: opened on demand, at most [`MAX_IDLE`] kept between reads (a read takes
//! one from the idle list or opens one, and gives it back), so there are never more than the
//! threads reading at once. Prepared statements are cached per connection. After
//! [`SyncReads::close`] a read fails as the store being unavailable, like the closed pool.

use crate::codec::Result;
use domain::ports::{StoreError, StoreUnavailable, UnavailableKind};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Idle connections kept between reads.
const MAX_IDLE: usize = 8;
/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 64;

/// Synchronous read connections to one database file (see the module documentation).
pub(crate) struct SyncReads {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for SyncReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncReads")
            .field("path", &self.path)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SyncReads {
    /// Reads of the database at `path` (which must exist in WAL mode: the read pool has opened
    /// it), waiting at most `busy_timeout` when SQLite reports it busy.
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        Self {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Runs `f` on a read connection, on this thread. `what` names the read in errors.
    pub(crate) fn read<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unknown(
                anyhow::Error::new(StoreUnavailable::bare(UnavailableKind::ConnectionLost))
                    .context(what),
            ));
        }
        let conn = match self.take() {
            Some(conn) => conn,
            None => self.open().map_err(sq(what))?,
        };
        let out = f(&conn);
        self.give_back(conn);
        out
    }

    /// Runs one statement that yields at most one row, on a read connection on this thread,
    /// and decodes that row with `decode`. `what` names the read in errors.
    pub(crate) fn row<T>(
        &self,
        what: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
        decode: impl FnOnce(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.read(what, |c| row(c, sql, params, what, decode))
    }

    /// Drops the idle connections; later reads fail (see the module documentation).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the lock cannot leave the list half-changed (push and pop are
        // the only operations), so a poisoned lock is still a valid list.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self) -> Option<Connection> {
        self.lock().pop()
    }

    fn give_back(&self, conn: Connection) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        // Reads only: a statement that would write fails instead.
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -16000)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

/// Wraps a `rusqlite` error with what we were doing, marked [`StoreUnavailable`] when SQLite
/// was busy or locked past the busy timeout or the file could not be opened.
pub(crate) fn sq(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        let kind = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Some(UnavailableKind::LockTimeout)
            }
            Some(rusqlite::ErrorCode::CannotOpen) => Some(UnavailableKind::ConnectionLost),
            _ => None,
        };
        let e = match kind {
            Some(kind) => anyhow::Error::new(StoreUnavailable::new(kind, e)),
            None => anyhow::Error::new(e),
        };
        StoreError::Unknown(e.context(what))
    }
}

/// A bound value of a statement shared by the sqlx and the `rusqlite` paths: ids as 16-byte
/// blobs (sqlx's encoding of a `Uuid` on SQLite), instants and counts as integers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg {
    Uuid(uuid::Uuid),
    Int(i64),
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Arg::Uuid(u) => ToSqlOutput::Borrowed(ValueRef::Blob(u.as_bytes())),
            Arg::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
        })
    }
}

impl Arg {
    /// Binds this value to a sqlx query.
    pub(crate) fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        match self {
            Arg::Uuid(u) => q.bind(u),
            Arg::Int(n) => q.bind(n),
        }
    }
}

/// Runs one statement of `sql` with `params` and decodes every row with `decode`.
pub(crate) fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    what: &'static str,
    mut decode: impl FnMut(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sq(what))?;
    let mut rows = stmt.query(params).map_err(sq(what))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sq(what))? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// As [`rows`], for a statement that yields at most one row.
fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    what: &'static str,
    decode: impl FnOnce(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sq(what))?;
    let mut rows = stmt.query(params).map_err(sq(what))?;
    rows.next().map_err(sq(what))?.map(decode).transpose()
}
