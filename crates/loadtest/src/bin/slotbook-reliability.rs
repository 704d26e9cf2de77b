//! `just reliability`: the reliability scorecard (issue 17). Seeds fresh databases, runs the
//! release `slotbook serve` binary as child processes on loopback, and prints one table
//! `check | backend | figure | pass/fail`:
//!
//! - hostile-input corpus ([`loadtest::hostile`]) on both stores: 0 answers ≥ 500;
//! - concurrency ([`loadtest::race`]): 50 simultaneous creates of one slot × 20 rounds, exactly
//!   one winner each; a random overlap storm over a round-robin event type, 0 overlapping
//!   bookings per host; both stores, and three `slotbook serve` processes on one Postgres;
//! - resource bounds: RSS and `/metrics` size before and after 10,000 hostile requests;
//! - schemathesis (PyPI, `.ci/run` installs it) against the served `/openapi.json`, seeded and
//!   bounded, every default check: 0 failures;
//! - the fault rows of `slotbook-faults` (found next to this binary; its `ROW\t…` lines are
//!   added; a missing program is a FAIL row).
//!
//! `--fast` keeps the CI-cheap rows (corpus, 5 race rounds per store, `slotbook-faults --fast`).
//! Exits non-zero when any row fails. Only loopback addresses are contacted.

#![allow(
    clippy::disallowed_methods,
    reason = "the scorecard runs against real servers on the wall clock"
)]

use anyhow::Context as _;
use clap::Parser;
use jiff::{SignedDuration, Timestamp};
use loadtest::children::Server;
use loadtest::harness::{self, PEPPER, TempDir};
use loadtest::{hostile, race, raw, schemathesis, seed};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "slotbook-reliability")]
struct Args {
    /// Only the CI-cheap rows.
    #[arg(long)]
    fast: bool,
    /// The `slotbook` binary (default: next to this one).
    #[arg(long)]
    slotbook: Option<PathBuf>,
    /// Schemathesis examples per operation (full run).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=500))]
    examples: u32,
    /// Only the schemathesis row (for working on the OpenAPI document).
    #[arg(long)]
    schemathesis_only: bool,
}

/// One table row.
struct Row {
    check: String,
    backend: String,
    figure: String,
    pass: bool,
}

fn row(check: &str, backend: &str, figure: impl Into<String>, pass: bool) -> Row {
    Row {
        check: check.to_owned(),
        backend: backend.to_owned(),
        figure: figure.into(),
        pass,
    }
}

/// A seeded database with `n` servers on it.
struct Stack {
    _dir: TempDir,
    servers: Vec<Server>,
    seeded: seed::Seeded,
    booking: String,
}

async fn stack(bin: &std::path::Path, backend: &str, n: usize) -> anyhow::Result<Stack> {
    let dir = TempDir::new("slotbook-reliability")?;
    let url = match backend {
        "sqlite" => format!("sqlite://{}?mode=rwc", dir.0.join("rel.db").display()),
        _ => {
            store_postgres::testing::fresh_database()
                .await
                .context("creating a Postgres database (SLOTBOOK_TEST_POSTGRES_URL)")?
                .1
        }
    };
    let seeded = seed::seed(&url, PEPPER).await?;
    let mut servers = Vec::new();
    for i in 0..n {
        let d = dir.0.join(format!("s{i}"));
        std::fs::create_dir_all(&d)?;
        servers.push(harness::spawn_slotbook(harness::slotbook_command(bin, &d, &url), &d).await?);
    }
    let addr = servers[0].addr;
    let start = Timestamp::now() + SignedDuration::from_hours(24 * 400);
    let body = serde_json::json!({"event_type_id": seeded.booking_event_type, "start": start.round(jiff::Unit::Hour)?.to_string(),
        "attendee": {"email": "seed@example.com"}})
    .to_string();
    let ans = raw::send(
        addr,
        &raw::request(
            b"POST",
            b"/v1/bookings",
            &[
                (
                    "Authorization",
                    format!("Bearer {}", seeded.token).as_bytes(),
                ),
                ("Content-Type", b"application/json"),
                ("Idempotency-Key", b"seed-booking"),
            ],
            body.as_bytes(),
        ),
    )
    .await?;
    anyhow::ensure!(
        ans.status == 201,
        "seeding a booking answered {}",
        ans.status
    );
    let booking = ans.json()["data"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(Stack {
        _dir: dir,
        servers,
        seeded,
        booking,
    })
}

impl Stack {
    fn target(&self) -> hostile::Target {
        hostile::Target {
            addr: self.servers[0].addr,
            token: self.seeded.token.clone(),
            event_type: self.seeded.booking_event_type.clone(),
            booking: self.booking.clone(),
        }
    }

    fn arena(&self) -> race::Arena {
        race::Arena {
            servers: self.servers.iter().map(|s| s.addr).collect(),
            token: self.seeded.token.clone(),
        }
    }
}

async fn corpus_row(s: &Stack, backend: &str) -> Row {
    let out = hostile::run(&s.target(), 8).await;
    let failures: Vec<&hostile::Outcome> = out.iter().filter(|o| o.is_failure()).collect();
    for f in &failures {
        eprintln!(
            "hostile {backend}: {} -> {:?}",
            f.label,
            f.answer.as_ref().map(|a| a.status)
        );
    }
    row(
        "hostile-input corpus",
        backend,
        format!(
            "{} requests, {} answered ≥ 500 or not at all",
            out.len(),
            failures.len()
        ),
        failures.is_empty() && !out.is_empty(),
    )
}

async fn race_row(s: &Stack, backend: &str, rounds: usize) -> Row {
    let base = (Timestamp::now() + SignedDuration::from_hours(48))
        .round(jiff::Unit::Hour)
        .unwrap_or_else(|_| Timestamp::now());
    let mut exact = 0;
    let mut other = 0;
    for r in 0..rounds {
        let start = base + SignedDuration::from_mins(5 * i64::try_from(r).unwrap_or(0));
        let t = race::burst(&s.arena(), &s.seeded.booking_event_type, &[start], 50).await;
        exact += usize::from(t[0].won == 1 && t[0].refused == 49);
        other += t[0].other;
    }
    row(
        "50 creates of one slot",
        backend,
        format!("{exact}/{rounds} rounds with exactly one winner; {other} other answers"),
        exact == rounds && other == 0,
    )
}

async fn storm_row(s: &Stack, backend: &str) -> Row {
    let from = (Timestamp::now() + SignedDuration::from_hours(24 * 30))
        .round(jiff::Unit::Hour)
        .unwrap_or_else(|_| Timestamp::now());
    let a = s.arena();
    let et = &s.seeded.round_robin_event_type;
    let (won, other) = race::storm(&a, et, from, 24, 400, 40, 17).await;
    let result = async {
        let listed = race::bookings(&a, et).await?;
        Ok::<_, anyhow::Error>((listed.len(), race::overlaps(&listed)?))
    }
    .await;
    match result {
        Ok((listed, overlaps)) => row(
            "overlap storm (round robin, 5 hosts)",
            backend,
            format!(
                "400 requests, {won} accepted, {listed} listed, {overlaps} overlaps, {other} other answers"
            ),
            overlaps == 0 && other == 0 && listed == won as usize,
        ),
        Err(e) => row(
            "overlap storm (round robin, 5 hosts)",
            backend,
            format!("error: {e:#}"),
            false,
        ),
    }
}

async fn metrics_size(addr: std::net::SocketAddr) -> usize {
    match raw::send(addr, &raw::request(b"GET", b"/metrics", &[], b"")).await {
        Ok(a) => a.body.len(),
        Err(_) => 0,
    }
}

async fn resources_row(s: &Stack, backend: &str) -> Row {
    let srv = &s.servers[0];
    let cases = hostile::corpus(&s.target());
    let warm = hostile::run_cases(srv.addr, cases.clone(), 16).await.len();
    let (rss0, m0) = (srv.rss_kib().unwrap_or(0), metrics_size(srv.addr).await);
    let mut sent = 0;
    let mut failed = 0;
    while sent < 10_000 {
        let batch: Vec<hostile::Case> = cases.iter().take(10_000 - sent).cloned().collect();
        let out = hostile::run_cases(srv.addr, batch, 16).await;
        sent += out.len();
        failed += out.iter().filter(|o| o.is_failure()).count();
    }
    let (rss1, m1) = (srv.rss_kib().unwrap_or(0), metrics_size(srv.addr).await);
    let rss_growth = rss1.saturating_sub(rss0);
    let metrics_growth = m1.saturating_sub(m0);
    row(
        "resource bounds (10,000 hostile requests)",
        backend,
        format!(
            "RSS {} → {} MiB, /metrics {} → {} KiB ({warm} warm-up, {failed} ≥ 500)",
            rss0 / 1024,
            rss1 / 1024,
            m0 / 1024,
            m1 / 1024
        ),
        rss0 > 0 && rss_growth < 64 * 1024 && metrics_growth < 16 * 1024 && failed == 0,
    )
}

async fn schemathesis_row(s: &Stack, examples: u32) -> Row {
    let out = schemathesis::run(
        s.servers[0].addr,
        &s.seeded.token,
        examples,
        Duration::from_secs(600),
    )
    .await;
    row(
        "schemathesis (all checks, seed 42)",
        "sqlite",
        format!("{} ({})", out.summary, out.report.display()),
        out.passed,
    )
}

/// `slotbook-faults` next to this binary; its `ROW\t` lines become rows.
async fn fault_rows(fast: bool) -> Vec<Row> {
    let path = match std::env::current_exe() {
        Ok(p) => p.with_file_name("slotbook-faults"),
        Err(e) => return vec![row("faults", "-", format!("no current exe: {e}"), false)],
    };
    if !path.is_file() {
        return vec![row(
            "faults (slotbook-faults)",
            "-",
            format!("{} missing", path.display()),
            false,
        )];
    }
    let mut cmd = tokio::process::Command::new(&path);
    if fast {
        cmd.arg("--fast");
    }
    let out = match tokio::time::timeout(Duration::from_secs(900), cmd.kill_on_drop(true).output())
        .await
    {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            return vec![row(
                "faults (slotbook-faults)",
                "-",
                format!("could not run: {e}"),
                false,
            )];
        }
        Err(_) => {
            return vec![row(
                "faults (slotbook-faults)",
                "-",
                "timed out after 900 s",
                false,
            )];
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows: Vec<Row> = text
        .lines()
        .filter_map(|l| l.strip_prefix("ROW\t"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 4).then(|| row(f[0], f[1], f[2], f[3] == "PASS"))
        })
        .collect();
    if rows.is_empty() || !out.status.success() && rows.iter().all(|r| r.pass) {
        rows.push(row(
            "faults (slotbook-faults)",
            "-",
            format!("exit {:?}, {} rows", out.status.code(), rows.len()),
            false,
        ));
    }
    rows
}

fn print(rows: &[Row]) {
    println!("| check | backend | figure | pass/fail |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.check,
            r.backend,
            r.figure,
            if r.pass { "PASS" } else { "FAIL" }
        );
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = harness::sibling(args.slotbook.clone(), "slotbook")?;
    let mut rows = Vec::new();
    if args.schemathesis_only {
        let s = stack(&bin, "sqlite", 1).await?;
        rows.push(schemathesis_row(&s, args.examples).await);
        print(&rows);
        anyhow::ensure!(rows.iter().all(|r| r.pass), "schemathesis failed");
        return Ok(());
    }
    for backend in ["sqlite", "postgres"] {
        let s = stack(&bin, backend, 1).await?;
        rows.push(corpus_row(&s, backend).await);
        rows.push(race_row(&s, backend, if args.fast { 5 } else { 20 }).await);
        if !args.fast {
            rows.push(storm_row(&s, backend).await);
            rows.push(resources_row(&s, backend).await);
            if backend == "sqlite" {
                rows.push(schemathesis_row(&s, args.examples).await);
            }
        }
    }
    if !args.fast {
        let s = stack(&bin, "postgres", 3).await?;
        rows.push(race_row(&s, "postgres ×3 processes", 20).await);
        rows.push(storm_row(&s, "postgres ×3 processes").await);
    }
    rows.extend(fault_rows(args.fast).await);
    print(&rows);
    anyhow::ensure!(
        rows.iter().all(|r| r.pass),
        "{} row(s) failed",
        rows.iter().filter(|r| !r.pass).count()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    harness::main_with(run(Args::parse())).await
}
