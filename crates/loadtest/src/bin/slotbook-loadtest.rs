//! `slotbook-loadtest`: the bounded loopback HTTP benchmark (`just bench-http`).
//!
//! Needs the release `slotbook` and `bare-hello` binaries next to itself (same target
//! directory), so build them together first:
//!
//! ```text
//! cargo build --release -p server -p loadtest --bins
//! target/release/slotbook-loadtest --seconds 5 --connections 32
//! ```
//!
//! It seeds a fresh SQLite database in a temporary directory through `server::admin`, starts
//! `slotbook serve` on it (port 0, fixed pepper, rate limits raised to 10⁹ per minute, log level
//! from the built-in defaults) and `bare-hello`, runs each scenario for `--seconds` with
//! `--connections` keep-alive connections (at most `--max-requests` requests), prints a
//! Markdown table and the slotbook process's resident memory, and stops both children. It also
//! times `--starts` cold starts of `slotbook serve` on the seeded database to the first
//! `/readyz` 200, and compares `/v1/slots` (1 host and a 10-host round robin, 31 days) with a
//! second `bare-hello` serving the exact bytes of those responses, fetched once at start (they are
//! killed on drop as well, so an error leaves nothing running). Once the server has stopped, the
//! same booking walk runs through `BookingService::create` in this process on the same database
//! (`loadtest::in_process`), the reference `POST /v1/bookings` is compared with.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use loadtest::children::Server;
use loadtest::harness::{self, PEPPER, RATE_LIMIT, TempDir, sibling};
use loadtest::load::{self, BookingWalk, LoadConfig, Outcome, Scenario, Target};
use loadtest::{in_process, report, seed};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// mimalloc, the allocator `slotbook` runs on (see `server`'s `main.rs`): the load generator
/// and the in-process booking reference use the same allocator, so the ratios compare the work,
/// not two allocators.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ratio targets.
const PING_TARGET: f64 = 0.8;
/// Real `/v1/slots` against the bare server shipping the same bytes (issue 18 item 3).
const SLOTS_ONE_HOST_TARGET: f64 = 0.5;
const SLOTS_RR10_TARGET: f64 = 0.25;
/// `slotbook serve` on an existing SQLite database: exec to the first `200` of `/readyz`, and
/// idle resident memory (issue 18 item 7).
const READY_TARGET_MS: f64 = 200.0;
const IDLE_RSS_TARGET_MIB: f64 = 30.0;
/// The booking page against `/v1/slots` of the same event type and month.
const PAGE_TARGET: f64 = 0.5;
/// `POST /v1/bookings` ÷ the same bookings through `BookingService` in process (issue 18 item 2).
const BOOKINGS_TARGET: f64 = 0.5;
/// The page's budget: HTML + CSS + JS bytes.
const PAGE_BUDGET_BYTES: usize = 50 * 1024;

/// Bounded loopback HTTP benchmark of `slotbook serve` against a bare hyper server.
#[derive(Debug, Parser)]
#[command(name = "slotbook-loadtest")]
struct Args {
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    seconds: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    connections: u64,
    /// Hard cap on requests per scenario.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// Unmeasured warm-up per scenario, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    warmup_ms: u64,
    /// The slotbook binary (default: `slotbook` next to this binary).
    #[arg(long)]
    slotbook: Option<PathBuf>,
    /// The bare-hello binary (default: `bare-hello` next to this binary).
    #[arg(long)]
    bare_hello: Option<PathBuf>,
    /// Cold starts of `slotbook serve` on the seeded database timed to the first `/readyz` 200.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
    starts: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    harness::main_with(run(Args::parse())).await
}

async fn run(args: Args) -> anyhow::Result<()> {
    let slotbook_bin = sibling(args.slotbook.clone(), "slotbook")?;
    let hello_bin = sibling(args.bare_hello.clone(), "bare-hello")?;
    let tmp = TempDir::new("slotbook-loadtest")?;
    let db = tmp.0.join("bench.db");
    let db_url = format!("sqlite://{}?mode=rwc", db.display());

    eprintln!("seeding {}", db.display());
    let seeded = seed::seed(&db_url, PEPPER).await.context("seeding")?;

    let command = || {
        let mut cmd = harness::slotbook_command(&slotbook_bin, &tmp.0, &db_url);
        cmd.env("SLOTBOOK__PAGES__VIEWS_PER_MINUTE", RATE_LIMIT.to_string());
        cmd
    };
    eprintln!("timing {} cold starts to /readyz", args.starts);
    let mut starts = Vec::new();
    for _ in 0..args.starts {
        starts.push(harness::time_to_ready(command(), &tmp.0).await?);
    }
    let slotbook = harness::spawn_slotbook(command(), &tmp.0).await?;
    tokio::time::sleep(Duration::from_millis(IDLE_MS)).await;
    let idle_rss = slotbook.rss_kib();
    let max_seconds = 60 + 12 * (args.seconds + args.warmup_ms.div_ceil(1000) + 5);
    let mut hello_cmd = Command::new(&hello_bin);
    hello_cmd
        .arg("127.0.0.1:0")
        .arg(max_seconds.to_string())
        .stderr(std::process::Stdio::null());
    let hello = Server::spawn("bare-hello", hello_cmd, Duration::from_secs(10)).await?;

    let outcome = bench(
        &args,
        &seeded,
        &slotbook,
        &hello,
        &tmp,
        &hello_bin,
        max_seconds,
    )
    .await;
    let stopped = (slotbook.stop().await, hello.stop().await);
    let (mut outcomes, checks) = outcome?;
    stopped.0?;
    stopped.1?;

    // Issue 18 item 2's reference, on the same database once the server has stopped: the same
    // walk of starts (after the HTTP scenario's) through `BookingService::create` in process.
    let walk = Arc::new(BookingWalk::new(
        seeded.booking_event_type.clone(),
        checks.next_free_start,
        SignedDuration::from_mins(5),
        String::new(),
    ));
    let name = "in-process `BookingService::create` (same DB and walk, no HTTP; 201 = created)";
    eprintln!("running {name} for {} s", args.seconds);
    let config = load_config(&args)?;
    if args.warmup_ms > 0 {
        let warmup = LoadConfig {
            duration: Duration::from_millis(args.warmup_ms),
            ..config
        };
        in_process::bookings(name, &db_url, seeded.organization, walk.clone(), warmup).await?;
    }
    outcomes.push(in_process::bookings(name, &db_url, seeded.organization, walk, config).await?);

    print_report(&args, &outcomes, &checks, idle_rss, &starts);
    Ok(())
}

/// The measured load of every scenario.
fn load_config(args: &Args) -> anyhow::Result<LoadConfig> {
    Ok(LoadConfig {
        connections: usize::try_from(args.connections)?,
        duration: Duration::from_secs(args.seconds),
        max_requests: args.max_requests,
    })
}

/// Milliseconds the measured server idles after start before its resident memory is read.
const IDLE_MS: u64 = 2_000;

/// What the checks before the load found.
struct Checks {
    slots: usize,
    slot_hosts: usize,
    truncated: bool,
    slots_bytes: usize,
    slots_path: String,
    rr10_slots: usize,
    rr10_bytes: usize,
    rr10_path: String,
    one_host_bytes: usize,
    first_booking: String,
    bookings_taken: u64,
    /// The first start the booking walk did not hand out.
    next_free_start: Timestamp,
    /// The month page's request and its bytes: (HTML, CSS, JS).
    page_path: String,
    page_bytes: (usize, usize, usize),
    page_slots_path: String,
}

/// The first month after `today`'s with 31 days (a full month of free times).
fn next_long_month(today: jiff::civil::Date) -> anyhow::Result<jiff::civil::Date> {
    let mut m = today
        .first_of_month()
        .checked_add(jiff::Span::new().months(1))?;
    while m.days_in_month() != 31 {
        m = m.checked_add(jiff::Span::new().months(1))?;
    }
    Ok(m)
}

/// The `href` / `src` values of the page's stylesheets and scripts.
fn page_assets(html: &str) -> (Vec<String>, Vec<String>) {
    let attr = |tag: &str, name: &str| -> Vec<String> {
        html.split(tag)
            .skip(1)
            .filter_map(|rest| {
                let rest = &rest[..rest.find('>')?];
                let v = rest.split(&format!("{name}=\"")).nth(1)?;
                Some(
                    v[..v.find('"')?]
                        .replace("&#x2f;", "/")
                        .replace("&#47;", "/"),
                )
            })
            .collect()
    };
    let css = attr("<link rel=\"stylesheet\"", "href");
    let js = attr("<script", "src");
    (css, js)
}

/// Indices of the scenarios in the outcomes.
const BARE: usize = 0;
const PING: usize = 2;
const RR10: usize = 4;
const RR10_BYTES: usize = 5;
const ONE_HOST: usize = 6;
const ONE_HOST_BYTES: usize = 7;
const PAGE: usize = 8;
const BOOKINGS: usize = 9;
const IN_PROCESS: usize = 10;

async fn bench(
    args: &Args,
    seeded: &seed::Seeded,
    slotbook: &Server,
    hello: &Server,
    tmp: &TempDir,
    hello_bin: &std::path::Path,
    max_seconds: u64,
) -> anyhow::Result<(Vec<Outcome>, Checks)> {
    let berlin = TimeZone::get(seed::ZONE)?;
    let today = Timestamp::now().to_zoned(berlin.clone()).date();
    let monday = today.nth_weekday(1, Weekday::Monday)?;
    let slots_start = monday.to_zoned(berlin.clone())?.timestamp();
    let slots_end = slots_start.checked_add(SignedDuration::from_hours(31 * 24))?;
    let slots_path = format!(
        "/v1/slots?event_type_id={}&start={slots_start}&end={slots_end}",
        seeded.round_robin_event_type
    );
    let first_booking = today.tomorrow()?.to_zoned(berlin.clone())?.timestamp();
    let month = next_long_month(today)?;
    let month_start = month.to_zoned(berlin.clone())?.timestamp();
    let month_end = month
        .checked_add(jiff::Span::new().days(31))?
        .to_zoned(berlin)?
        .timestamp();
    let page_path = format!(
        "{}?month={}&tz={}",
        seeded.page_path,
        month.strftime("%Y-%m"),
        seed::ZONE
    );
    let rr10_path = format!(
        "/v1/slots?event_type_id={}&start={slots_start}&end={slots_end}",
        seeded.round_robin_10_event_type
    );
    let page_slots_path = format!(
        "/v1/slots?event_type_id={}&start={month_start}&end={month_end}",
        seeded.page_event_type
    );
    let run_id = format!("{}-{}", std::process::id(), Timestamp::now().as_second());

    let bearer = Some(seeded.token.clone());
    let scenarios = [
        Scenario {
            name: "bare hello `GET /`".into(),
            addr: hello.addr,
            bearer: None,
            target: Target::Get { path: "/".into() },
        },
        Scenario {
            name: "`GET /healthz` (no auth, no DB; diagnostic)".into(),
            addr: slotbook.addr,
            bearer: None,
            target: Target::Get {
                path: "/healthz".into(),
            },
        },
        Scenario {
            name: "`GET /v1/_ping`".into(),
            addr: slotbook.addr,
            bearer: bearer.clone(),
            target: Target::Get {
                path: "/v1/_ping".into(),
            },
        },
        Scenario {
            name: "`GET /v1/slots` (RR 5 hosts, 31 d)".into(),
            addr: slotbook.addr,
            bearer: bearer.clone(),
            target: Target::Get {
                path: slots_path.clone(),
            },
        },
        Scenario {
            name: "`GET /v1/slots` (RR 10 hosts, 31 d)".into(),
            addr: slotbook.addr,
            bearer: bearer.clone(),
            target: Target::Get {
                path: rr10_path.clone(),
            },
        },
        Scenario {
            name: "`GET /v1/slots` (1 host, 31 d: the page's month)".into(),
            addr: slotbook.addr,
            bearer: bearer.clone(),
            target: Target::Get {
                path: page_slots_path.clone(),
            },
        },
        Scenario {
            name: "booking page `GET /host0/month?month=…` (1 host, 31 d)".into(),
            addr: slotbook.addr,
            bearer: None,
            target: Target::Get {
                path: page_path.clone(),
            },
        },
        Scenario {
            name: "`POST /v1/bookings` (5-min, new slot each)".into(),
            addr: slotbook.addr,
            bearer,
            target: Target::Bookings(BookingWalk::new(
                seeded.booking_event_type.clone(),
                first_booking,
                SignedDuration::from_mins(5),
                run_id,
            )),
        },
    ];
    let [
        bare,
        healthz,
        ping,
        slots,
        rr10,
        month_slots,
        page,
        bookings,
    ] = scenarios.map(Arc::new);

    // Checks before the load.
    let (status, body) = load::probe(&bare).await?;
    ensure!(
        status == 200 && body.as_ref() == b"hello",
        "bare-hello answered {status}"
    );
    let (status, _) = load::probe(&healthz).await?;
    ensure!(status == 200, "/healthz answered {status}");
    let (status, body) = load::probe(&ping).await?;
    ensure!(
        status == 200,
        "_ping answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let (status, body) = load::probe(&slots).await?;
    ensure!(
        status == 200,
        "slots answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let (slot_count, slot_hosts, truncated) = check_slots(&body, &seeded.hosts)?;
    let slots_bytes = body.len();
    let (status, body) = load::probe(&month_slots).await?;
    ensure!(
        status == 200,
        "the month's slots answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let month_slot_count = serde_json::from_slice::<serde_json::Value>(&body)?["data"]["slots"]
        .as_array()
        .map_or(0, Vec::len);
    ensure!(
        month_slot_count >= 28 * 48,
        "the month has only {month_slot_count} slots"
    );
    let one_host_body = body;
    let (status, rr10_body) = load::probe(&rr10).await?;
    ensure!(
        status == 200,
        "the 10-host round robin's slots answered {status}: {}",
        String::from_utf8_lossy(&rr10_body)
    );
    // Every slot must name one of the ten hosts; with no bookings yet the fairness tie-break
    // may assign the same one throughout.
    let (rr10_slots, _, _) = check_slots(&rr10_body, &seeded.hosts)?;

    // The bare server shipping the exact bytes of those two responses.
    let one_host_file = tmp.0.join("slots-1-host.json");
    let rr10_file = tmp.0.join("slots-rr10.json");
    std::fs::write(&one_host_file, &one_host_body)?;
    std::fs::write(&rr10_file, &rr10_body)?;
    let mut bytes_cmd = Command::new(hello_bin);
    bytes_cmd
        .arg("127.0.0.1:0")
        .arg(max_seconds.to_string())
        .arg(format!("/slots-1-host={}", one_host_file.display()))
        .arg(format!("/slots-rr10={}", rr10_file.display()))
        .stderr(std::process::Stdio::null());
    let bytes = Server::spawn(
        "bare-hello (slot bytes)",
        bytes_cmd,
        Duration::from_secs(10),
    )
    .await?;
    let bytes_scenario = |name: &str, path: &str| {
        Arc::new(Scenario {
            name: name.to_owned(),
            addr: bytes.addr,
            bearer: None,
            target: Target::Get { path: path.into() },
        })
    };
    let rr10_bytes = bytes_scenario("bare hyper, the RR-10 response's bytes", "/slots-rr10");
    let one_host_bytes = bytes_scenario("bare hyper, the 1-host response's bytes", "/slots-1-host");
    for (scenario, expected) in [(&rr10_bytes, &rr10_body), (&one_host_bytes, &one_host_body)] {
        let (status, body) = load::probe(scenario).await?;
        ensure!(
            status == 200 && body == *expected,
            "{} did not serve the recorded bytes",
            scenario.name
        );
    }

    let (status, body) = load::probe(&page).await?;
    let html = String::from_utf8_lossy(&body).into_owned();
    ensure!(
        status == 200 && html.contains("<table class=\"calendar\""),
        "the booking page answered {status}: {html}"
    );
    let (css, js) = page_assets(&html);
    ensure!(!css.is_empty(), "the booking page links no stylesheet");
    let asset_bytes = |paths: &[String]| {
        let paths = paths.to_vec();
        let addr = slotbook.addr;
        async move {
            let mut total = 0;
            for path in paths {
                let probe = Scenario {
                    name: format!("asset {path}"),
                    addr,
                    bearer: None,
                    target: Target::Get { path: path.clone() },
                };
                let (status, body) = load::probe(&probe).await?;
                ensure!(status == 200, "{path} answered {status}");
                total += body.len();
            }
            anyhow::Ok(total)
        }
    };
    let page_bytes = (
        html.len(),
        asset_bytes(&css).await?,
        asset_bytes(&js).await?,
    );
    let (status, body) = load::probe(&bookings).await?;
    ensure!(
        status == 201,
        "the first booking answered {status}: {}",
        String::from_utf8_lossy(&body)
    );

    let config = load_config(args)?;
    let warmup = LoadConfig {
        duration: Duration::from_millis(args.warmup_ms),
        ..config
    };
    let mut outcomes = Vec::new();
    for (scenario, pid) in [
        (bare, None),
        (healthz, Some(slotbook.pid)),
        (ping, Some(slotbook.pid)),
        (slots, Some(slotbook.pid)),
        (rr10, Some(slotbook.pid)),
        (rr10_bytes, None),
        (month_slots, Some(slotbook.pid)),
        (one_host_bytes, None),
        (page, Some(slotbook.pid)),
        (bookings.clone(), Some(slotbook.pid)),
    ] {
        eprintln!("running {} for {} s", scenario.name, args.seconds);
        if args.warmup_ms > 0 {
            load::run(scenario.clone(), warmup, None).await?;
        }
        outcomes.push(load::run(scenario, config, pid).await?);
    }
    bytes.stop().await?;
    let Target::Bookings(walk) = &bookings.target else {
        bail!("the booking scenario lost its walk")
    };
    Ok((
        outcomes,
        Checks {
            slots: slot_count,
            slot_hosts,
            truncated,
            slots_bytes,
            slots_path,
            rr10_slots,
            rr10_bytes: rr10_body.len(),
            rr10_path,
            one_host_bytes: one_host_body.len(),
            first_booking: first_booking.to_string(),
            bookings_taken: walk.taken(),
            next_free_start: walk.next_start()?.1,
            page_path,
            page_bytes,
            page_slots_path,
        },
    ))
}

/// Counts the slots and the distinct `host_user_id`s among them (every slot must name one of
/// the hosts), and tells whether the server marked the list `truncated`.
fn check_slots(body: &[u8], hosts: &[String]) -> anyhow::Result<(usize, usize, bool)> {
    let v: serde_json::Value = serde_json::from_slice(body).context("slots: not JSON")?;
    let slots = v["data"]["slots"]
        .as_array()
        .context("slots: no data.slots array")?;
    let mut seen = std::collections::BTreeSet::new();
    for slot in slots {
        let host = slot["host_user_id"]
            .as_str()
            .context("slots: a slot without host_user_id")?;
        ensure!(
            hosts.iter().any(|h| h == host),
            "slots: unknown host {host}"
        );
        seen.insert(host.to_owned());
    }
    ensure!(
        slots.len() >= 1000,
        "slots: only {} slots (truncated: {})",
        slots.len(),
        v["data"]["truncated"]
    );
    let truncated = v["data"]["truncated"].as_bool().unwrap_or(false);
    Ok((slots.len(), seen.len(), truncated))
}

fn print_report(
    args: &Args,
    outcomes: &[Outcome],
    checks: &Checks,
    idle_rss: Option<u64>,
    starts: &[harness::Ready],
) {
    let rps = |i: usize| outcomes.get(i).map_or(0.0, Outcome::requests_per_second);
    let over = |a: usize, b: usize| if rps(b) > 0.0 { rps(a) / rps(b) } else { 0.0 };
    let baseline = rps(BARE);
    println!(
        "\n## bench-http: {} s per scenario (+{} ms warm-up), {} keep-alive HTTP/1.1 connections, loopback, {} CPUs\n",
        args.seconds,
        args.warmup_ms,
        args.connections,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    println!(
        "slotbook: release `slotbook serve`, fresh SQLite file, rate limits raised to {RATE_LIMIT}/min (SLOTBOOK__RATE_LIMIT__AUTHENTICATED_PER_MINUTE and …ANONYMOUS_PER_MINUTE), default log level (info).\n"
    );
    print!("{}", report::table(outcomes, baseline));
    println!();
    println!("Targets:");
    println!(
        "{}",
        report::verdict("`_ping`", over(PING, BARE), PING_TARGET)
    );
    let bytes = "the bare server shipping the same bytes";
    for (name, ratio, reference, target) in [
        (
            "`/v1/slots` 1 host, 31 d",
            over(ONE_HOST, ONE_HOST_BYTES),
            bytes,
            SLOTS_ONE_HOST_TARGET,
        ),
        (
            "`/v1/slots` round robin 10 hosts, 31 d",
            over(RR10, RR10_BYTES),
            bytes,
            SLOTS_RR10_TARGET,
        ),
        (
            "booking page",
            over(PAGE, ONE_HOST),
            "`/v1/slots` of the same event type and month",
            PAGE_TARGET,
        ),
        (
            "`POST /v1/bookings`",
            over(BOOKINGS, IN_PROCESS),
            "the same bookings through `BookingService::create` in process",
            BOOKINGS_TARGET,
        ),
    ] {
        println!(
            "{}",
            report::verdict_against(name, ratio, reference, target)
        );
    }
    let mut ready: Vec<f64> = starts
        .iter()
        .map(|r| r.elapsed.as_secs_f64() * 1000.0)
        .collect();
    ready.sort_by(f64::total_cmp);
    let median = ready.get(ready.len() / 2).copied().unwrap_or(0.0);
    let worst = ready.last().copied().unwrap_or(0.0);
    println!(
        "- start: exec to first `/readyz` 200 on the existing SQLite database, median {median:.1} ms, worst {worst:.1} ms of {} starts (target ≤ {READY_TARGET_MS:.0} ms) — {}",
        ready.len(),
        if worst <= READY_TARGET_MS {
            "PASS"
        } else {
            "FAIL"
        }
    );
    let idle_mib = idle_rss.map_or(f64::MAX, |k| k as f64 / 1024.0);
    println!(
        "- idle RSS {} s after start: {} (target < {IDLE_RSS_TARGET_MIB:.0} MiB) — {}",
        IDLE_MS / 1000,
        idle_rss.map_or("n/a".to_owned(), report::mib),
        if idle_mib < IDLE_RSS_TARGET_MIB {
            "PASS"
        } else {
            "FAIL"
        }
    );
    let at_ready: Vec<String> = starts
        .iter()
        .map(|r| r.rss_kib.map_or("n/a".to_owned(), report::mib))
        .collect();
    println!(
        "  RSS at the first `/readyz` 200 per start: {}.",
        at_ready.join(", ")
    );
    println!();
    let (html, css, js) = checks.page_bytes;
    let total = html + css + js;
    println!(
        "Booking page: {} B HTML + {} B CSS + {} B JS = {} B ({:.1} KiB) against a {} KiB budget: {} (request `{}`; slots compared: `{}`, {} B).",
        html,
        css,
        js,
        total,
        total as f64 / 1024.0,
        PAGE_BUDGET_BYTES / 1024,
        if total <= PAGE_BUDGET_BYTES {
            "within"
        } else {
            "OVER"
        },
        checks.page_path,
        checks.page_slots_path,
        checks.one_host_bytes,
    );
    println!(
        "Slots check: RR 5: {} slots (truncated: {}), {} distinct host_user_ids, {} B per response (request `{}`); RR 10: {} slots, {} B (request `{}`).",
        checks.slots,
        checks.truncated,
        checks.slot_hosts,
        checks.slots_bytes,
        checks.slots_path,
        checks.rr10_slots,
        checks.rr10_bytes,
        checks.rr10_path,
    );
    if let Some(b) = outcomes.get(BOOKINGS) {
        println!(
            "Bookings: {} × 201 created, {} other responses, {} connection errors; {} distinct starts walked from {} (5-minute steps, incl. warm-up and the probe).",
            b.count(201),
            b.requests - b.count(201),
            b.errors,
            checks.bookings_taken,
            checks.first_booking,
        );
    }
    let peak = outcomes.iter().filter_map(|o| o.peak_rss_kib).max();
    println!(
        "slotbook RSS: idle after start {}; peak during load {}.",
        idle_rss.map_or("n/a".to_owned(), report::mib),
        peak.map_or("n/a".to_owned(), report::mib),
    );
    for o in outcomes.iter().skip(1) {
        if let Some(kib) = o.peak_rss_kib {
            println!("  - peak during {}: {}", o.name, report::mib(kib));
        }
    }
}
