//! The fast fault rows of the reliability scorecard (`slotbook-faults --fast`, issue 17) run in
//! CI against the `slotbook` binary of this build: SIGKILL during a retrying booking storm on
//! SQLite (acknowledged ⊆ stored, no duplicates, no stuck idempotency keys, `integrity_check`
//! ok), pool exhaustion on Postgres (fast 503s, never 500 or a hang, `/healthz` answers
//! meanwhile), and idle plus slowloris sockets closed within their timeouts while normal
//! requests succeed. The rows and their pass criteria are [`loadtest::faults`]'s, the same the
//! scorecard prints; a failing row fails with its figure.

use loadtest::faults::{self, Row};
use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_slotbook"))
}

fn assert_pass(row: &Row) {
    assert!(row.pass, "{} ({}): {}", row.check, row.backend, row.figure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_retrying_booking_storm_loses_nothing_on_sqlite() {
    assert_pass(&faults::kill::row(bin(), "sqlite", faults::FAST_KILL_CLIENTS).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_postgres_pool_answers_fast_503s() {
    assert_pass(&faults::pool::row(bin()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slowloris_sockets_are_closed_while_requests_succeed() {
    let (idle, slow, normal) = faults::FAST_SOCKETS;
    assert_pass(&faults::sockets::row(bin(), idle, slow, normal).await);
}
