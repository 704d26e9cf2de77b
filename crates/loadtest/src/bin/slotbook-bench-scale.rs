//! `slotbook-bench-scale`: cost as history grows (`just bench-scale`, issue 18 item 5).
//!
//! ```text
//! cargo build --release -p server -p loadtest --bins
//! target/release/slotbook-bench-scale --sizes 10000,100000,1000000
//! ```
//!
//! Per backend (a fresh SQLite file; a fresh `slotbook_bench_perf_…` database on the Postgres
//! at `SLOTBOOK_TEST_POSTGRES_URL`, default 127.0.0.1:5432, dropped at the end): seeds 100
//! hosts ([`loadtest::scale`]), starts the release `slotbook serve`, books one template booking
//! through `POST /v1/bookings`, bulk-loads [`loadtest::scale::UPCOMING`] upcoming bookings of
//! host 0, then for each size grows the history to that size with SQL
//! ([`loadtest::scale_sql`]) and measures, with the closed-loop generator, the median and p99
//! of: `GET /v1/bookings?limit=100` (first page; a cursor page halfway back through the
//! history; `status=canceled`; `status=confirmed,pending` with `start_date`/`end_date`), a
//! 31-day `GET /v1/slots` of host 0, and `POST /v1/bookings`. Prints one table per backend
//! with the ratio of the largest size to the smallest, the target verdicts (≤ 1.5× on
//! Postgres, ≤ 2× on SQLite) and the query plans of the list and busy queries at the largest
//! size. Loopback only; bounded by `--seconds` per scenario.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use domain::pagination::{Cursor, CursorValue};
use jiff::{SignedDuration, Timestamp};
use loadtest::harness::{self, PEPPER, TempDir, sibling};
use loadtest::load::{self, BookingWalk, LoadConfig, Outcome, Scenario, Target};
use loadtest::scale::{self, HistoryPlan};
use loadtest::scale_sql::{BenchPgDatabase, Db, PlanInputs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bounded benchmark of request cost against the size of the booking history.
#[derive(Debug, Parser)]
#[command(name = "slotbook-bench-scale")]
struct Args {
    /// Which backends: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// History sizes, ascending, comma-separated; each a multiple of 100 dividing the largest.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<u64>,
    /// Years the history spans (ending yesterday).
    #[arg(long, default_value_t = 4)]
    years: i64,
    /// Measured seconds per scenario and size.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    seconds: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    connections: u64,
    /// Unmeasured warm-up per scenario, in milliseconds.
    #[arg(long, default_value_t = 500)]
    warmup_ms: u64,
    /// The slotbook binary (default: `slotbook` next to this binary).
    #[arg(long)]
    slotbook: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    harness::main_with(run(Args::parse())).await
}

/// The scenario names, in report order.
const SCENARIOS: [&str; 6] = [
    "`GET /v1/bookings?limit=100` first page",
    "`GET /v1/bookings?limit=100` deep cursor (halfway back)",
    "`GET /v1/bookings?limit=100&status=canceled`",
    "`…&status=confirmed,pending&start_date=…&end_date=…` (31 d, a year back)",
    "`GET /v1/slots` host 0, 31 d",
    "`POST /v1/bookings` (5-min, new slot each)",
];

struct BackendRun {
    backend: &'static str,
    /// Per size: (size, load seconds, row counts, outcomes per scenario).
    sizes: Vec<(u64, f64, String, Vec<Outcome>)>,
    plans: Vec<(String, String)>,
    slots_bytes: usize,
}

async fn run(args: Args) -> anyhow::Result<()> {
    ensure!(!args.sizes.is_empty(), "--sizes: give at least one size");
    ensure!(
        args.sizes.windows(2).all(|w| w[0] < w[1]),
        "--sizes must ascend"
    );
    let bin = sibling(args.slotbook.clone(), "slotbook")?;
    let backends: &[&'static str] = match args.backend.as_str() {
        "sqlite" => &["sqlite"],
        "postgres" => &["postgres"],
        "both" => &["sqlite", "postgres"],
        other => bail!("--backend {other}: use sqlite, postgres or both"),
    };
    let mut runs = Vec::new();
    for &backend in backends {
        let tmp = TempDir::new("slotbook-bench-scale")?;
        let run = match backend {
            "sqlite" => {
                let db = tmp.0.join("scale.db");
                let url = format!("sqlite://{}?mode=rwc", db.display());
                bench_backend(&args, &bin, &tmp, backend, &url).await
            }
            _ => {
                let pg = BenchPgDatabase::create(&store_postgres::testing::server_url()).await?;
                eprintln!("postgres database {}", pg.name);
                let result = bench_backend(&args, &bin, &tmp, backend, &pg.url).await;
                let dropped = pg.drop_now().await;
                let run = result?;
                dropped.context("dropping the bench database")?;
                Ok(run)
            }
        }?;
        print_backend(&args, &run);
        runs.push(run);
    }
    Ok(())
}

async fn bench_backend(
    args: &Args,
    bin: &std::path::Path,
    tmp: &TempDir,
    backend: &'static str,
    url: &str,
) -> anyhow::Result<BackendRun> {
    eprintln!("[{backend}] seeding {} hosts", scale::HOSTS);
    let seeded = scale::seed(url, PEPPER).await.context("seeding")?;
    let server =
        harness::spawn_slotbook(harness::slotbook_command(bin, &tmp.0, url), &tmp.0).await?;
    let now = Timestamp::from_second(Timestamp::now().as_second())?;
    let berlin = jiff::tz::TimeZone::get(scale::ZONE)?;
    let tomorrow = now.to_zoned(berlin.clone()).date().tomorrow()?;
    let window_start = tomorrow.to_zoned(berlin)?.timestamp();
    let window_end = window_start.checked_add(SignedDuration::from_hours(31 * 24))?;
    let max = *args.sizes.last().context("no sizes")?;
    let plan = HistoryPlan::new(
        max,
        args.years,
        now.as_millisecond(),
        window_start.as_millisecond(),
    )?;
    let host0 = seeded.hosts.first().context("no hosts")?.clone();
    let bearer = Some(seeded.token.clone());
    let run_id = format!("{}-{}", std::process::id(), now.as_second());

    // The template: a booking the real server writes, far beyond the measured window.
    let template_walk = Scenario {
        name: "template booking".into(),
        addr: server.addr,
        bearer: bearer.clone(),
        target: Target::Bookings(BookingWalk::new(
            host0.event_type_id.to_string(),
            window_start.checked_add(SignedDuration::from_hours(300 * 24))?,
            SignedDuration::from_mins(30),
            format!("{run_id}-template"),
        )),
    };
    let (status, body) = load::probe(&template_walk).await?;
    ensure!(
        status == 201,
        "the template booking answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let created: serde_json::Value = serde_json::from_slice(&body)?;
    let template: uuid::Uuid = created["data"]["uid"]
        .as_str()
        .context("the template booking has no uid")?
        .parse()?;

    let mut db = Db::connect(url).await?;
    db.prepare(&seeded).await?;
    let upcoming = db
        .load(&plan, seeded.org, template, |s| Ok(plan.upcoming_rows(s)))
        .await?;
    ensure!(
        upcoming == scale::UPCOMING,
        "loaded {upcoming} upcoming bookings"
    );

    let deep_ms = plan.base_ms + (plan.now_ms - plan.base_ms) / 2;
    let deep_cursor = Cursor {
        sort: "start_at_desc".to_owned(),
        value: CursorValue::Int(deep_ms),
        id: uuid::Uuid::max(),
    }
    .encode();
    let year_ago = now.checked_sub(SignedDuration::from_hours(365 * 24))?;
    let year_ago_end = year_ago.checked_add(SignedDuration::from_hours(31 * 24))?;
    let paths = [
        "/v1/bookings?limit=100".to_owned(),
        format!("/v1/bookings?limit=100&cursor={deep_cursor}"),
        "/v1/bookings?limit=100&status=canceled".to_owned(),
        format!(
            "/v1/bookings?limit=100&status=confirmed,pending&start_date={year_ago}&end_date={year_ago_end}"
        ),
        format!(
            "/v1/slots?event_type_id={}&start={window_start}&end={window_end}",
            host0.event_type_id
        ),
    ];
    let mut scenarios: Vec<Arc<Scenario>> = paths
        .iter()
        .zip(SCENARIOS)
        .map(|(path, name)| {
            Arc::new(Scenario {
                name: name.to_owned(),
                addr: server.addr,
                bearer: bearer.clone(),
                target: Target::Get { path: path.clone() },
            })
        })
        .collect();
    scenarios.push(Arc::new(Scenario {
        name: SCENARIOS[5].to_owned(),
        addr: server.addr,
        bearer: bearer.clone(),
        target: Target::Bookings(BookingWalk::new(
            seeded.quick_event_type.clone(),
            window_start.checked_add(SignedDuration::from_hours(24))?,
            SignedDuration::from_mins(5),
            run_id,
        )),
    }));

    let config = LoadConfig {
        connections: usize::try_from(args.connections)?,
        duration: Duration::from_secs(args.seconds),
        max_requests: 2_000_000,
    };
    let warmup = LoadConfig {
        duration: Duration::from_millis(args.warmup_ms),
        ..config
    };
    let mut sizes = Vec::new();
    let mut prev = 0;
    let mut slots_bytes = 0;
    for &size in &args.sizes {
        eprintln!("[{backend}] growing the history to {size} bookings");
        let started = Instant::now();
        let n = db
            .load(&plan, seeded.org, template, |s| {
                plan.history_rows(s, prev, size)
            })
            .await?;
        ensure!(
            n == size - prev,
            "loaded {n} bookings, expected {}",
            size - prev
        );
        db.after_load().await?;
        let load_secs = started.elapsed().as_secs_f64();
        let counts = db.counts().await?;
        eprintln!("[{backend}] {size}: loaded in {load_secs:.1} s ({counts})");
        prev = size;

        // Checks before the load: every GET answers 200 with what it should.
        for s in scenarios.iter().take(5) {
            let (status, body) = load::probe(s).await?;
            ensure!(
                status == 200,
                "{} answered {status}: {}",
                s.name,
                String::from_utf8_lossy(&body)
            );
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            if s.name.contains("slots") {
                slots_bytes = body.len();
                let n = v["data"]["slots"].as_array().map_or(0, Vec::len);
                ensure!(n > 1000, "slots: only {n}");
            } else {
                let n = v["data"].as_array().map_or(0, Vec::len);
                ensure!(n == 100, "{}: {n} bookings, not 100", s.name);
            }
        }
        let mut outcomes = Vec::new();
        for s in &scenarios {
            eprintln!("[{backend}] {size}: {}", s.name);
            if args.warmup_ms > 0 {
                load::run(s.clone(), warmup, None).await?;
            }
            let o = load::run(s.clone(), config, None).await?;
            let ok = o.count(200) + o.count(201);
            ensure!(
                ok == o.requests && o.errors == 0,
                "{} at {size}: {}",
                s.name,
                loadtest::report::statuses(&o)
            );
            outcomes.push(o);
        }
        sizes.push((size, load_secs, counts, outcomes));
    }
    let plans = db
        .plans(&PlanInputs {
            org: seeded.org,
            host0: host0.user_id,
            deep_ms,
            from_ms: year_ago.as_millisecond(),
            to_ms: year_ago_end.as_millisecond(),
            window: (window_start.as_millisecond(), window_end.as_millisecond()),
        })
        .await?;
    server.stop().await?;
    Ok(BackendRun {
        backend,
        sizes,
        plans,
        slots_bytes,
    })
}

fn print_backend(args: &Args, run: &BackendRun) {
    let target = if run.backend == "postgres" { 1.5 } else { 2.0 };
    println!(
        "\n## bench-scale, {}: {} s per scenario (+{} ms warm-up), {} connections, {} hosts, {} years of history, {} CPUs\n",
        run.backend,
        args.seconds,
        args.warmup_ms,
        args.connections,
        scale::HOSTS,
        args.years,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    for (size, secs, counts, _) in &run.sizes {
        println!("- {size}: grown in {secs:.1} s; rows: {counts}");
    }
    println!();
    let mut header = "| scenario |".to_owned();
    let mut rule = "|---|".to_owned();
    for (size, ..) in &run.sizes {
        header.push_str(&format!(" {size} p50 | {size} p99 |"));
        rule.push_str("---:|---:|");
    }
    header.push_str(" p50 largest / smallest | p99 largest / smallest | verdict |");
    rule.push_str("---:|---:|---|");
    println!("{header}\n{rule}");
    let mut all_pass = true;
    for (i, name) in SCENARIOS.iter().enumerate() {
        let mut row = format!("| {name} |");
        let fig = |s: usize, q: f64| {
            run.sizes
                .get(s)
                .and_then(|x| x.3.get(i))
                .map(|o| o.latency_ms(q))
        };
        for s in 0..run.sizes.len() {
            let (p50, p99) = (fig(s, 0.5).unwrap_or(0.0), fig(s, 0.99).unwrap_or(0.0));
            row.push_str(&format!(" {p50:.2} ms | {p99:.2} ms |"));
        }
        let last = run.sizes.len().saturating_sub(1);
        let ratio = |q: f64| match (fig(0, q), fig(last, q)) {
            (Some(a), Some(b)) if a > 0.0 => b / a,
            _ => 0.0,
        };
        let (r50, r99) = (ratio(0.5), ratio(0.99));
        let pass = r50 <= target && r99 <= target;
        all_pass &= pass;
        row.push_str(&format!(
            " {r50:.2} | {r99:.2} | {} |",
            if pass { "PASS" } else { "FAIL" }
        ));
        println!("{row}");
    }
    println!();
    println!(
        "Target: no figure at the largest size more than {target}× its value at the smallest — {} (slots response {} KiB).",
        if all_pass { "PASS" } else { "FAIL" },
        run.slots_bytes / 1024
    );
    let reqs: Vec<String> = run
        .sizes
        .iter()
        .map(|(size, _, _, o)| {
            let rps: Vec<String> = o
                .iter()
                .map(|o| format!("{:.0}", o.requests_per_second()))
                .collect();
            format!("{size}: {}", rps.join(" / "))
        })
        .collect();
    println!("Requests/s per scenario (same order): {}.", reqs.join("; "));
    println!("\nQuery plans at the largest size:\n");
    for (name, plan) in &run.plans {
        println!("{name}:\n```\n{plan}\n```");
    }
}
