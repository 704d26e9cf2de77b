//! The fault rows of the reliability scorecard (`slotbook-faults`, issue 17): the release
//! `slotbook serve` as a child process on loopback, hurt on purpose, and checked black-box.
//!
//! - [`kill`]: SIGKILL of the server during a retrying booking storm (every client retries its
//!   own `Idempotency-Key`), restart on the same database: acknowledged ⊆ stored, no
//!   duplicates, every client answered within a bound after the restart, SQLite
//!   `integrity_check` ok;
//! - [`outage`]: a private Postgres cluster ([`pg::PrivateCluster`], run as the `postgres` OS
//!   user) stopped (`pg_ctl stop -m immediate`) and started again under load: fast 503s,
//!   recovery within 10 s, nothing acknowledged lost;
//! - [`pool`]: more concurrent slow requests (blocked on a table lock held by `psql`) than pool
//!   connections: the rest are 503 fast, never 500 or a hang;
//! - [`sockets`]: idle and slowloris sockets closed within their timeouts while normal requests
//!   keep succeeding.
//!
//! Each row is a [`Row`]; the binary prints them as `ROW\t<check>\t<backend>\t<figure>\tPASS|FAIL`.

use crate::raw;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::net::SocketAddr;

pub mod kill;
pub mod outage;
pub mod pg;
pub mod pool;
pub mod sockets;

/// Clients of the SIGKILL row in the CI-cheap (`--fast`) run.
pub const FAST_KILL_CLIENTS: usize = 40;
/// Idle, slowloris and normal-request counts of the sockets row in the `--fast` run.
pub const FAST_SOCKETS: (usize, usize, usize) = (200, 50, 100);

/// One scorecard row.
#[derive(Debug, Clone)]
pub struct Row {
    pub check: String,
    pub backend: String,
    pub figure: String,
    pub pass: bool,
}

impl Row {
    pub fn new(check: &str, backend: &str, figure: impl Into<String>, pass: bool) -> Self {
        Self {
            check: check.to_owned(),
            backend: backend.to_owned(),
            figure: figure.into(),
            pass,
        }
    }

    /// A row that could not be measured: FAIL with the error chain as its figure.
    pub fn error(check: &str, backend: &str, e: &anyhow::Error) -> Self {
        Self::new(check, backend, format!("error: {e:#}"), false)
    }

    /// The protocol line (tabs and newlines inside fields become spaces).
    pub fn line(&self) -> String {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        format!(
            "ROW\t{}\t{}\t{}\t{}",
            clean(&self.check),
            clean(&self.backend),
            clean(&self.figure),
            if self.pass { "PASS" } else { "FAIL" }
        )
    }
}

/// A booking create of `event_type` at `start` for attendee `email` under `key`.
pub fn booking_request(
    token: &str,
    event_type: &str,
    start: Timestamp,
    email: &str,
    key: &str,
) -> Vec<u8> {
    let body = json!({
        "event_type_id": event_type,
        "start": start.to_string(),
        "attendee": {"email": email, "name": "Fault"},
    })
    .to_string();
    raw::request(
        b"POST",
        b"/v1/bookings",
        &[
            ("Authorization", format!("Bearer {token}").as_bytes()),
            ("Content-Type", b"application/json"),
            ("Idempotency-Key", key.as_bytes()),
        ],
        body.as_bytes(),
    )
}

/// The `n`th 5-minute slot from a whole hour `days` days ahead.
pub fn slot(days: i64, n: usize) -> Timestamp {
    let base = (Timestamp::now() + SignedDuration::from_hours(24 * days))
        .round(jiff::Unit::Hour)
        .unwrap_or_else(|_| Timestamp::now());
    base + SignedDuration::from_mins(5 * i64::try_from(n).unwrap_or(0))
}

/// Every booking of `event_type` on `addr`, as (uid, first attendee e-mail).
pub async fn stored(
    addr: SocketAddr,
    token: &str,
    event_type: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let arena = crate::race::Arena {
        servers: vec![addr],
        token: token.to_owned(),
    };
    let all = crate::race::bookings(&arena, event_type).await?;
    Ok(all
        .iter()
        .map(|b: &Value| {
            (
                b["uid"].as_str().unwrap_or_default().to_owned(),
                b["attendees"][0]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect())
}

/// How the acknowledged bookings compare with the stored ones.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ledger {
    pub acknowledged: usize,
    pub stored: usize,
    /// Acknowledged uids not stored.
    pub lost: usize,
    /// Attendees (one per client) with more than one stored booking, counted beyond the first.
    pub duplicates: usize,
}

impl Ledger {
    /// `acked`: the uids the clients were given; `stored`: (uid, attendee) as listed.
    pub fn of(acked: &[String], stored: &[(String, String)]) -> Self {
        use std::collections::{BTreeMap, BTreeSet};
        let uids: BTreeSet<&str> = stored.iter().map(|(u, _)| u.as_str()).collect();
        let mut per_attendee: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, email) in stored {
            *per_attendee.entry(email.as_str()).or_default() += 1;
        }
        Self {
            acknowledged: acked.len(),
            stored: stored.len(),
            lost: acked.iter().filter(|u| !uids.contains(u.as_str())).count(),
            duplicates: per_attendee.values().map(|n| n.saturating_sub(1)).sum(),
        }
    }
}

/// Milliseconds of a duration, for figures.
pub fn ms(d: std::time::Duration) -> u128 {
    d.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_counts_lost_and_duplicates() {
        let stored = vec![
            ("u1".to_owned(), "a@x".to_owned()),
            ("u2".to_owned(), "b@x".to_owned()),
            ("u3".to_owned(), "b@x".to_owned()),
        ];
        let l = Ledger::of(&["u1".to_owned(), "u9".to_owned()], &stored);
        assert_eq!(
            l,
            Ledger {
                acknowledged: 2,
                stored: 3,
                lost: 1,
                duplicates: 1
            }
        );
    }

    #[test]
    fn row_lines_are_tab_separated_with_clean_fields() {
        let r = Row::new("a\tb", "sqlite", "x\ny", true);
        assert_eq!(r.line(), "ROW\ta b\tsqlite\tx y\tPASS");
        assert!(Row::new("c", "-", "f", false).line().ends_with("\tFAIL"));
    }
}
