//! `slotbook-bench-webhooks`: the webhook delivery benchmark (`just bench-webhooks`).
//!
//! Needs the release `slotbook` binary next to itself (same target directory):
//!
//! ```text
//! cargo build --release -p server -p loadtest --bins
//! target/release/slotbook-bench-webhooks
//! ```
//!
//! Per backend (a fresh SQLite file, and a fresh Postgres database on the local server):
//!
//! 1. **Throughput.** `slotbook serve` runs with its worker off; `--subscriptions` webhook
//!    subscriptions point at a receiver inside this process (loopback, answers `200` at once),
//!    and `--bookings` bookings are made over HTTP, so `bookings × subscriptions` deliveries are
//!    waiting in the outbox. That server is stopped and one with the worker on is started on
//!    the same database; deliveries per second = arrivals at the receiver between its first and
//!    its last arrival (fan-out included).
//! 2. **Delay.** On that server, `--delay-bookings` more bookings are made one at a time at
//!    `--rate` per second; each first attempt's delay is the receiver's arrival time minus the
//!    envelope's `createdAt` (stamped when the booking's outbox row is written, just before its
//!    commit; millisecond precision). Median, p99 and maximum are reported.
//!
//! Bounded: every wait has a limit, child processes are killed on drop, and only loopback
//! addresses are contacted.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jiff::{SignedDuration, Timestamp};
use loadtest::children::Server;
use loadtest::harness::{self, PEPPER, TempDir, sibling};
use loadtest::load::{self, BookingWalk, LoadConfig, Scenario, Target};
use loadtest::seed;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
/// Targets (Postgres).
const TARGET_PER_SECOND: f64 = 1000.0;
const TARGET_MEDIAN_MS: f64 = 50.0;

/// Webhook delivery benchmark: deliveries/s and commit-to-first-attempt delay.
#[derive(Debug, Parser)]
#[command(name = "slotbook-bench-webhooks")]
struct Args {
    /// Bookings made before the worker starts (throughput phase).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    bookings: u64,
    /// Subscriptions (each event is delivered to every one).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
    subscriptions: u64,
    /// Bookings made one at a time in the delay phase.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=5_000))]
    delay_bookings: u64,
    /// Bookings per second in the delay phase.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=500))]
    rate: u64,
    /// Which backends: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// The slotbook binary (default: `slotbook` next to this binary).
    #[arg(long)]
    slotbook: Option<PathBuf>,
}

/// One request the receiver got.
struct Arrival {
    at: Timestamp,
    created_at: Option<Timestamp>,
    attempt: u32,
}

#[derive(Default)]
struct Sink {
    arrivals: Mutex<Vec<Arrival>>,
    arrived: tokio::sync::Notify,
}

impl Sink {
    fn len(&self) -> usize {
        self.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }

    fn take(&self) -> Vec<Arrival> {
        self.arrivals
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    /// Waits until `n` requests have arrived, woken by each arrival; fails after `limit`.
    async fn wait_for(&self, n: usize, limit: Duration) -> anyhow::Result<()> {
        let wait = async {
            loop {
                let arrived = self.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                if self.len() >= n {
                    return;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .with_context(|| format!("only {} of {n} deliveries within {limit:?}", self.len()))
    }
}

async fn receive(sink: Arc<Sink>, req: Request<Incoming>) -> anyhow::Result<Response<Full<Bytes>>> {
    let attempt = req
        .headers()
        .get("x-42min-webhook-attempt")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    let body = req.into_body().collect().await?.to_bytes();
    let at = Timestamp::now();
    let created_at = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["createdAt"].as_str()?.parse().ok());
    if let Ok(mut a) = sink.arrivals.lock() {
        a.push(Arrival {
            at,
            created_at,
            attempt,
        });
    }
    sink.arrived.notify_waiters();
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// The receiver: hyper HTTP/1.1 on a free loopback port, `200 ok` to everything.
async fn start_receiver() -> anyhow::Result<(SocketAddr, Arc<Sink>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sink = Arc::new(Sink::default());
    let s = sink.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| receive(s.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, sink))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    harness::main_with(run(Args::parse())).await
}

/// What one backend measured.
struct Figures {
    backend: &'static str,
    deliveries: usize,
    per_second: f64,
    since_start_per_second: f64,
    delays: usize,
    median_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = sibling(args.slotbook.clone(), "slotbook")?;
    let backends: &[&'static str] = match args.backend.as_str() {
        "sqlite" => &["sqlite"],
        "postgres" => &["postgres"],
        "both" => &["sqlite", "postgres"],
        other => bail!("--backend {other}: use sqlite, postgres or both"),
    };
    let mut figures = Vec::new();
    for &backend in backends {
        let tmp = TempDir::new("slotbook-bench-webhooks")?;
        let url = match backend {
            "sqlite" => format!("sqlite://{}?mode=rwc", tmp.0.join("bench.db").display()),
            _ => {
                let (_, url) = store_postgres::testing::fresh_database()
                    .await
                    .context("creating a Postgres database (SLOTBOOK_TEST_POSTGRES_URL)")?;
                url
            }
        };
        eprintln!("== {backend}");
        figures.push(bench(&args, backend, &bin, &tmp.0, &url).await?);
    }
    print_report(&args, &figures);
    Ok(())
}

async fn spawn(bin: &Path, dir: &Path, url: &str, worker: bool) -> anyhow::Result<Server> {
    let mut cmd = harness::slotbook_command(bin, dir, url);
    cmd.env("SLOTBOOK__LOG__LEVEL", "warn")
        .env("SLOTBOOK__WEBHOOKS__ALLOW_LOOPBACK_HTTP", "true")
        .env("SLOTBOOK__WEBHOOKS__WORKER", worker.to_string());
    harness::spawn_slotbook(cmd, dir).await
}

fn bookings_scenario(
    addr: SocketAddr,
    token: &str,
    event_type: &str,
    first: Timestamp,
    run: &str,
) -> Scenario {
    Scenario {
        name: "bookings".into(),
        addr,
        bearer: Some(token.to_owned()),
        target: Target::Bookings(BookingWalk::new(
            event_type.to_owned(),
            first,
            SignedDuration::from_mins(5),
            run.to_owned(),
        )),
    }
}

async fn bench(
    args: &Args,
    backend: &'static str,
    bin: &Path,
    dir: &Path,
    url: &str,
) -> anyhow::Result<Figures> {
    let seeded = seed::seed(url, PEPPER).await.context("seeding")?;
    let (rx_addr, sink) = start_receiver().await?;
    let quiet = spawn(bin, dir, url, false).await?;
    for i in 0..args.subscriptions {
        let body = serde_json::json!({
            "url": format!("http://{rx_addr}/hook/{i}"),
            "events": ["booking_created"],
        });
        let create = Scenario {
            name: "subscribe".into(),
            addr: quiet.addr,
            bearer: Some(seeded.token.clone()),
            target: Target::PostJson {
                path: "/v1/webhooks".into(),
                body: serde_json::to_vec(&body)?,
            },
        };
        let (status, body) = load::probe(&create).await?;
        ensure!(
            status == 201,
            "creating a subscription answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    // 1. Throughput: a backlog made with the worker off, drained by a fresh process.
    let tomorrow = Timestamp::now()
        .checked_add(SignedDuration::from_hours(24))?
        .round(jiff::TimestampRound::new().smallest(jiff::Unit::Hour))?;
    let backlog = Arc::new(bookings_scenario(
        quiet.addr,
        &seeded.token,
        &seeded.booking_event_type,
        tomorrow,
        "backlog",
    ));
    let made = load::run(
        backlog.clone(),
        LoadConfig {
            connections: 8,
            duration: Duration::from_secs(300),
            max_requests: args.bookings,
        },
        None,
    )
    .await?;
    ensure!(
        made.count(201) == args.bookings,
        "only {} of {} bookings were created: {:?}",
        made.count(201),
        args.bookings,
        made.statuses
    );
    quiet.stop().await?;
    ensure!(
        sink.len() == 0,
        "deliveries arrived while the worker was off"
    );
    let expected = usize::try_from(args.bookings * args.subscriptions)?;
    eprintln!("{backend}: {expected} deliveries queued; starting the worker");
    let started = Timestamp::now();
    let server = spawn(bin, dir, url, true).await?;
    sink.wait_for(expected, Duration::from_secs(300)).await?;
    let arrivals = sink.take();
    ensure!(
        arrivals.iter().all(|a| a.attempt == 1),
        "a delivery needed a retry against a receiver that always answers 200"
    );
    let first = arrivals.iter().map(|a| a.at).min().context("no arrivals")?;
    let last = arrivals.iter().map(|a| a.at).max().context("no arrivals")?;
    let span = last.duration_since(first).as_secs_f64();
    let per_second = if span > 0.0 {
        (arrivals.len() - 1) as f64 / span
    } else {
        0.0
    };
    let since_start = last.duration_since(started).as_secs_f64();
    let since_start_per_second = arrivals.len() as f64 / since_start.max(1e-9);

    // 2. Delay: one booking at a time at `rate`/s, measured per first attempt.
    let paced = bookings_scenario(
        server.addr,
        &seeded.token,
        &seeded.booking_event_type,
        tomorrow.checked_add(SignedDuration::from_hours(24 * 60))?,
        "paced",
    );
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / args.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let phase = Instant::now();
    for _ in 0..args.delay_bookings {
        tick.tick().await;
        let (status, body) = load::probe(&paced).await?;
        ensure!(
            status == 201,
            "a paced booking answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let expected = usize::try_from(args.delay_bookings * args.subscriptions)?;
    sink.wait_for(expected, Duration::from_secs(120)).await?;
    eprintln!("{backend}: delay phase took {:?}", phase.elapsed());
    server.stop().await?;
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut delays = 0usize;
    for a in sink.take().iter().filter(|a| a.attempt == 1) {
        let created = a.created_at.context("a delivery without createdAt")?;
        let micros = a.at.duration_since(created).as_micros().max(1);
        h.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX));
        delays += 1;
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(Figures {
        backend,
        deliveries: arrivals.len(),
        per_second,
        since_start_per_second,
        delays,
        median_ms: ms(0.5),
        p99_ms: ms(0.99),
        max_ms: h.max() as f64 / 1000.0,
    })
}

fn print_report(args: &Args, figures: &[Figures]) {
    println!(
        "\n## bench-webhooks: {} bookings × {} subscriptions queued, then {} bookings at {}/s; loopback receiver, {} CPUs\n",
        args.bookings,
        args.subscriptions,
        args.delay_bookings,
        args.rate,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    println!(
        "| backend | deliveries | deliveries/s (first→last arrival) | deliveries/s (from worker process start) | first attempts timed | median delay | p99 delay | max delay |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for f in figures {
        println!(
            "| {} | {} | {:.0} | {:.0} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            f.backend,
            f.deliveries,
            f.per_second,
            f.since_start_per_second,
            f.delays,
            f.median_ms,
            f.p99_ms,
            f.max_ms
        );
    }
    if let Some(pg) = figures.iter().find(|f| f.backend == "postgres") {
        println!();
        println!(
            "Targets (Postgres): ≥ {TARGET_PER_SECOND:.0} deliveries/s — {}; median delay ≤ {TARGET_MEDIAN_MS:.0} ms — {}.",
            if pg.per_second >= TARGET_PER_SECOND {
                "met"
            } else {
                "MISSED"
            },
            if pg.median_ms <= TARGET_MEDIAN_MS {
                "met"
            } else {
                "MISSED"
            },
        );
    }
}
