//! A transaction that begins and takes its event type's advisory lock in one round trip.
//!
//! sqlx's `Transaction` sends `BEGIN` as a trip of its own, and the lock is another. Merging
//! them through `Pool::begin_with` is unsafe: sqlx counts the transaction only once its begin
//! statement has answered, so a future cancelled while it waits for the lock (the request
//! timeout), or a lock that times out, hands the connection back to the pool inside an open or
//! failed transaction — the next borrower would inherit the lock or an aborted transaction.
//!
//! [`LockedTx`] owns the connection and keeps the books itself:
//! - [`LockedTx::begin`] runs `BEGIN; SELECT set_config(...); SELECT pg_advisory_xact_lock(k)`
//!   (the simple-query protocol: one trip; every value in it is an integer this module
//!   formats) in a spawned task, so a cancelled caller never interrupts it half-way; if the
//!   caller is gone when it finishes, the task's result is dropped and rolls back (below);
//! - any failure of that statement rolls back before the error is returned;
//! - a `LockedTx` dropped without [`LockedTx::commit`] (an error path, a cancelled request)
//!   rolls back in a spawned task, after sqlx has drained any answer still in flight; a
//!   connection that cannot roll back is closed instead of going back to the pool.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// An open transaction holding one advisory lock, on a connection of its own.
pub(crate) struct LockedTx {
    /// `None` only after `commit` or inside `drop`.
    conn: Option<PoolConnection<Postgres>>,
}

/// The one-trip begin statement: transaction-local lock timeout, then the lock.
fn begin_sql(key: i64, timeout: Duration) -> String {
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    format!(
        "BEGIN; SELECT set_config('lock_timeout', '{ms}ms', true); \
         SELECT pg_advisory_xact_lock({key})"
    )
}

impl LockedTx {
    /// Begins a transaction on a connection of `pool` and takes the advisory lock `key`,
    /// waiting at most `timeout` for it (`55P03` when it is not granted in time).
    pub(crate) async fn begin(
        pool: &PgPool,
        key: i64,
        timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let pool = pool.clone();
        let task = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            match sqlx::raw_sql(sqlx::AssertSqlSafe(begin_sql(key, timeout)))
                .execute(&mut *conn)
                .await
            {
                Ok(_) => Ok(LockedTx { conn: Some(conn) }),
                Err(e) => {
                    rollback_or_close(conn).await;
                    Err(e)
                }
            }
        });
        match task.await {
            Ok(result) => result,
            Err(join) => {
                tracing::error!(error = %join, "advisory-lock begin task failed");
                Err(sqlx::Error::WorkerCrashed)
            }
        }
    }

    /// Commits. On an error the transaction is rolled back by `drop`.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("COMMIT").execute(&mut *self).await?;
        self.conn = None; // the connection goes back to the pool outside any transaction
        Ok(())
    }
}

/// Rolls `conn` back; closes it when that fails, so it never returns to the pool mid-transaction.
async fn rollback_or_close(mut conn: PoolConnection<Postgres>) {
    if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await {
        tracing::warn!(error = %e, "rollback failed; closing the connection");
        conn.close_on_drop();
    }
}

impl Drop for LockedTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(rollback_or_close(conn));
            }
            // No runtime to roll back on: the server ends the transaction with the session.
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Deref for LockedTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match &self.conn {
            Some(conn) => conn,
            None => {
                unreachable!("only `commit` and `drop` take the connection, and both end the use")
            }
        }
    }
}

impl DerefMut for LockedTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.conn {
            Some(conn) => conn,
            None => {
                unreachable!("only `commit` and `drop` take the connection, and both end the use")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::begin_sql;
    use std::time::Duration;

    #[test]
    fn begin_statement_formats_only_integers() {
        assert_eq!(
            begin_sql(-42, Duration::from_millis(1500)),
            "BEGIN; SELECT set_config('lock_timeout', '1500ms', true); \
             SELECT pg_advisory_xact_lock(-42)"
        );
        // A zero timeout would mean "wait forever" to Postgres: it is clamped to 1 ms.
        assert!(begin_sql(1, Duration::ZERO).contains("'1ms'"));
    }
}
