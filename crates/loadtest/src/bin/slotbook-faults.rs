//! `slotbook-faults`: the fault rows of the reliability scorecard (issue 17), run by
//! `slotbook-reliability` from next to itself. Starts the release `slotbook` (next to this
//! binary, or `--slotbook`) as child processes on loopback, hurts it on purpose
//! ([`loadtest::faults`]) and prints one line per row on standard output:
//! `ROW\t<check>\t<backend>\t<figure>\tPASS|FAIL`.
//!
//! Full run: SIGKILL during a retrying booking storm on SQLite and Postgres (200 clients),
//! Postgres stopped and restarted under load on a private cluster (5 s outage), pool
//! exhaustion, 1,000 idle + 200 slowloris sockets. `--fast` (CI-cheap): the SIGKILL row on
//! SQLite with 40 clients, pool exhaustion, 200 idle + 50 slowloris sockets. Exits non-zero
//! when a row fails. Only loopback addresses are contacted; the shared Postgres server is only
//! given fresh databases, never stopped.

#![allow(
    clippy::disallowed_methods,
    reason = "the fault rows run against real servers on the wall clock"
)]

use clap::Parser;
use loadtest::faults::{self, Row};
use loadtest::harness;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "slotbook-faults")]
struct Args {
    /// Only the CI-cheap rows.
    #[arg(long)]
    fast: bool,
    /// The `slotbook` binary (default: next to this one).
    #[arg(long)]
    slotbook: Option<PathBuf>,
    /// Only the rows of these groups: kill, outage, pool, sockets (repeatable; default all).
    #[arg(long)]
    only: Vec<String>,
}

fn emit(row: &Row) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", row.line());
    let _ = out.flush();
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = harness::sibling(args.slotbook.clone(), "slotbook")?;
    let mut rows = Vec::new();
    let mut push = |r: Row| {
        emit(&r);
        rows.push(r);
    };
    let on = |g: &str| args.only.is_empty() || args.only.iter().any(|o| o == g);
    if on("kill") {
        let clients = if args.fast {
            faults::FAST_KILL_CLIENTS
        } else {
            200
        };
        push(faults::kill::row(&bin, "sqlite", clients).await);
        if !args.fast {
            push(faults::kill::row(&bin, "postgres", clients).await);
        }
    }
    if on("outage") && !args.fast {
        push(faults::outage::row(&bin, Duration::from_secs(5)).await);
    }
    if on("pool") {
        push(faults::pool::row(&bin).await);
    }
    if on("sockets") {
        let (idle, slow, normal) = if args.fast {
            faults::FAST_SOCKETS
        } else {
            (1000, 200, 300)
        };
        push(faults::sockets::row(&bin, idle, slow, normal).await);
    }
    let failed = rows.iter().filter(|r| !r.pass).count();
    anyhow::ensure!(failed == 0, "{failed} fault row(s) failed");
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    harness::main_with(run(Args::parse())).await
}
