//! [`BatchTx`]: a write transaction on one pooled connection whose `BEGIN IMMEDIATE` and
//! `COMMIT` this crate sends itself, so that `COMMIT` can end a multi-statement batch: the
//! writes of a booking and their commit travel to the connection's worker thread in one trip.
//! (sqlx's `Transaction` sends `COMMIT` alone and cannot be told that a batch committed.)
//!
//! Dropped while open — after an error, or when the caller's future was cancelled — it rolls
//! back on a spawned task that keeps the write turn until the rollback is done, so the next
//! writer never meets SQLite's lock. Where no runtime is left, or the rollback fails, the
//! connection is closed instead, which rolls the transaction back as well; it never goes
//! back to the pool inside a transaction.

use crate::codec::Result;
use crate::{WriteBeginError, WriteTurn};
use domain::ports::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};
use std::sync::Arc;
use tokio::sync::Notify;

/// See the module documentation.
pub(crate) struct BatchTx {
    /// `None` only while being dropped.
    conn: Option<PoolConnection<Sqlite>>,
    /// Whether a transaction may be open: set before `BEGIN` is awaited, cleared only when a
    /// `COMMIT` is acknowledged (or `BEGIN` reported that it did not begin).
    open: bool,
    signal: Arc<Notify>,
    turn: Option<WriteTurn>,
}

impl BatchTx {
    /// Begins (`BEGIN IMMEDIATE`) on `conn` in the write turn `turn`; `signal` is notified
    /// after the commit.
    pub(crate) async fn begin(
        conn: PoolConnection<Sqlite>,
        turn: WriteTurn,
        signal: Arc<Notify>,
    ) -> std::result::Result<Self, WriteBeginError> {
        let mut tx = Self {
            conn: Some(conn),
            open: true,
            signal,
            turn: Some(turn),
        };
        let begun = match tx.conn.as_mut() {
            Some(conn) => sqlx::query("BEGIN IMMEDIATE").execute(&mut **conn).await,
            None => return Err(WriteBeginError::Other(finished())),
        };
        if let Err(e) = begun {
            // An answered `BEGIN` that failed began nothing.
            tx.open = false;
            return Err(WriteBeginError::of("BEGIN IMMEDIATE")(e));
        }
        Ok(tx)
    }

    /// The connection, inside the transaction.
    pub(crate) fn conn(&mut self) -> Result<&mut SqliteConnection> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StoreError::Unknown(finished()))
    }

    /// Commits with a `COMMIT` of its own.
    pub(crate) async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        if let Some(conn) = self.conn.as_mut() {
            sqlx::query("COMMIT").execute(&mut **conn).await?;
        }
        self.committed();
        Ok(())
    }

    /// Records that a batch ending in `COMMIT` ran to its end.
    pub(crate) fn committed(&mut self) {
        self.open = false;
        self.signal.notify_one();
    }
}

fn finished() -> anyhow::Error {
    anyhow::anyhow!("the booking write has already finished")
}

impl Drop for BatchTx {
    fn drop(&mut self) {
        if !self.open {
            // The connection goes back to the pool, then the turn is released (field order).
            return;
        }
        let (Some(conn), turn) = (self.conn.take(), self.turn.take()) else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(roll_back(conn, turn));
            }
            // Closing the connection rolls back.
            Err(_) => drop(conn.detach()),
        }
    }
}

/// Rolls back `conn`'s transaction, then releases `turn`; closes `conn` if that fails for any
/// reason but there being no transaction (a cancelled caller's batch may have committed, or
/// its `BEGIN` never run).
async fn roll_back(mut conn: PoolConnection<Sqlite>, turn: Option<WriteTurn>) {
    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
        Ok(_) => {}
        Err(e) if no_transaction(&e) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not roll back a booking write; closing its connection");
            drop(conn.detach());
        }
    }
    drop(turn);
}

/// SQLite's answer to a `ROLLBACK` outside any transaction.
fn no_transaction(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.message().contains("no transaction is active"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection as _;

    #[tokio::test]
    async fn a_rollback_outside_any_transaction_is_recognised() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let err = sqlx::query("ROLLBACK")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(no_transaction(&err), "{err}");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
        let other = sqlx::query("SELECT * FROM missing")
            .execute(&mut conn)
            .await;
        assert!(!no_transaction(&other.unwrap_err()));
    }
}
