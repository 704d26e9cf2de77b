//! The read connections: a small pool of SQLite connections that hands a connection back
//! without a round trip. (The hot reads by key, a slot listing's and a booking page's, have
//! since moved to `sync_read`, on the calling thread; lists and scans stay here.)
//!
//! sqlx's `Pool` pings every connection it gets back (`return_to_pool`: a band-aid for network
//! connections left mid-protocol by a cancelled query). On SQLite every ping is one more
//! command to the connection's worker thread: a futex wake of that thread, two context
//! switches and a spawned task, as expensive as the query itself. A slot listing reads twice,
//! so half of its thread hand-offs were pings (BENCHMARKS.md "mimalloc and read connections
//! without the ping"). A SQLite connection cannot be left mid-protocol: its worker runs
//! commands in order, and a command whose caller went away ends at its first row (the result
//! channel is closed), so the next command finds the connection idle. Returning it as is is
//! therefore safe.
//!
//! The pool: at most `size` connections, opened on demand (one at [`ReadPool::open`], which
//! creates the file and sets WAL mode); a caller waits at most the acquire timeout for one, then
//! gets `sqlx::Error::PoolTimedOut` (503 upstream, like sqlx's pool); after [`ReadPool::close`]
//! `sqlx::Error::PoolClosed`. Idle connections are kept until the pool closes (a local file
//! never drops a connection). `&ReadPool` is an `Executor`, so every read runs as
//! `query.fetch_…(store.pool())`; each call takes a connection for that one statement (or one
//! multi-statement batch).

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteQueryResult, SqliteRow, SqliteStatement,
    SqliteTypeInfo,
};
use sqlx::{Connection as _, Either, Execute, Executor, SqlStr, Sqlite};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The read connections (see the module documentation). Clones share them.
#[derive(Clone)]
pub struct ReadPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
    /// One permit per connection that may be out (idle ones included in the count); closed
    /// by [`ReadPool::close`].
    permits: Arc<Semaphore>,
    options: SqliteConnectOptions,
    acquire_timeout: Duration,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool")
            .field("available", &self.inner.permits.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// A connection taken from a [`ReadPool`]; dropping it hands it back.
pub struct ReadConn {
    conn: Option<SqliteConnection>,
    pool: Arc<PoolInner>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for ReadConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConn").finish_non_exhaustive()
    }
}

impl std::ops::Deref for ReadConn {
    type Target = SqliteConnection;
    #[allow(clippy::expect_used, reason = "`Some` until `Drop` takes it out")]
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("a read connection is present until dropped")
    }
}

impl std::ops::DerefMut for ReadConn {
    #[allow(clippy::expect_used, reason = "`Some` until `Drop` takes it out")]
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a read connection is present until dropped")
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.pool.permits.is_closed() {
            // Dropping a sqlx connection ends its worker thread, which closes the database.
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock() {
            idle.push(conn);
        }
    }
}

impl ReadPool {
    /// Opens the pool with its first connection (which creates the file and sets the
    /// journal mode of `options`).
    pub async fn open(
        options: SqliteConnectOptions,
        size: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let first = SqliteConnection::connect_with(&options).await?;
        Ok(Self {
            inner: Arc::new(PoolInner {
                idle: std::sync::Mutex::new(vec![first]),
                permits: Arc::new(Semaphore::new(size.max(1) as usize)),
                options,
                acquire_timeout,
            }),
        })
    }

    /// A connection: an idle one, or a new one while fewer than `size` are open; waits at most
    /// the acquire timeout for one to come back.
    pub async fn acquire(&self) -> Result<ReadConn, sqlx::Error> {
        let inner = &self.inner;
        let permit = match tokio::time::timeout(
            inner.acquire_timeout,
            inner.permits.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            // The semaphore is closed only by `close`.
            Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        if self.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        let idle = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => SqliteConnection::connect_with(&inner.options).await?,
        };
        Ok(ReadConn {
            conn: Some(conn),
            pool: inner.clone(),
            _permit: permit,
        })
    }

    /// Refuses every later `acquire` and closes the idle connections (the ones out close when
    /// they come back).
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = match self.inner.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for conn in idle {
            let _ = conn.close().await;
        }
    }

    pub fn is_closed(&self) -> bool {
        self.inner.permits.is_closed()
    }
}

impl<'p> Executor<'p> for &'_ ReadPool {
    type Database = Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        // The results are collected while the connection is held, then streamed: every read
        // of this store is bounded (LIMIT, or a known set of rows).
        futures::stream::once(async move {
            let mut conn = pool.acquire().await?;
            (&mut *conn).fetch_many(query).try_collect::<Vec<_>>().await
        })
        .map_ok(|results| futures::stream::iter(results.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        Box::pin(async move { (&mut *pool.acquire().await?).fetch_optional(query).await })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, Result<SqliteStatement, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            (&mut *pool.acquire().await?)
                .prepare_with(sql, parameters)
                .await
        })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Sqlite>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move { (&mut *pool.acquire().await?).describe(sql).await })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::str::FromStr as _;

    async fn one_connection(acquire_timeout: Duration) -> ReadPool {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        ReadPool::open(options, 1, acquire_timeout).await.unwrap()
    }

    /// A connection handed back is the one the next caller gets (no new connection, so its
    /// TEMP table is still there), also after a statement abandoned after its first row.
    #[tokio::test]
    async fn a_returned_connection_is_reused_and_an_abandoned_statement_leaves_it_usable() {
        let pool = one_connection(Duration::from_secs(5)).await;
        sqlx::query("CREATE TEMP TABLE marker (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        {
            let mut conn = pool.acquire().await.unwrap();
            let mut rows = sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
                 SELECT i FROM n",
            )
            .fetch(&mut *conn);
            assert!(rows.try_next().await.unwrap().is_some());
            // The statement is abandoned here, mid-way through its rows.
        }
        sqlx::query("INSERT INTO marker VALUES (7)")
            .execute(&pool)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT n FROM marker")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 7);
    }

    /// With every connection out, a caller gets `PoolTimedOut` after the acquire timeout, and
    /// a connection once back serves the next caller.
    #[tokio::test]
    async fn an_exhausted_pool_times_out_then_serves_again() {
        let pool = one_connection(Duration::from_millis(50)).await;
        let held = pool.acquire().await.unwrap();
        assert!(matches!(
            pool.acquire().await,
            Err(sqlx::Error::PoolTimedOut)
        ));
        drop(held);
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(one, 1);
    }

    /// After `close`, every acquire is `PoolClosed`; a connection that was out when the pool
    /// closed is not kept.
    #[tokio::test]
    async fn a_closed_pool_refuses_and_keeps_nothing() {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        let pool = ReadPool::open(options, 2, Duration::from_secs(5))
            .await
            .unwrap();
        let out = pool.acquire().await.unwrap();
        pool.close().await;
        assert!(pool.is_closed());
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
        drop(out);
        assert!(pool.inner.idle.lock().unwrap().is_empty());
    }
}
