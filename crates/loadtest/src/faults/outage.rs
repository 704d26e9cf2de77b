//! Postgres stopped and restarted under load, on a private cluster ([`PrivateCluster`]):
//! `LOAD_CLIENTS` clients book one slot after another (each booking retried under its own key
//! until acknowledged) while `pg_ctl stop -m immediate` kills the database for
//! `outage` seconds and `pg_ctl start` brings it back. Checks: every request sent during the
//! outage is answered, none with 500, the slowest within [`FAST`] (503s, not hangs); `/readyz`
//! turns 503; reads and booking writes succeed again within [`RECOVERY`] of the database
//! accepting connections; every acknowledged booking is stored, once.

use super::pg::PrivateCluster;
use super::{Ledger, Row, booking_request, ms, slot, stored};
use crate::harness::{self, PEPPER, TempDir};
use crate::{raw, seed};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHECK: &str = "Postgres stopped and restarted under load (private cluster, pg_ctl)";
const LOAD_CLIENTS: usize = 8;
/// The slowest answer allowed while the database is down (the pool's acquire timeout is 2 s).
pub const FAST: Duration = Duration::from_secs(5);
/// Service must be back this long after the database accepts connections.
pub const RECOVERY: Duration = Duration::from_secs(10);
/// `/readyz` must answer 503 this long after the stop.
pub const READYZ: Duration = Duration::from_secs(3);

/// One answer (or its absence) of the load.
#[derive(Debug, Clone, Copy)]
struct Sample {
    sent: Instant,
    took: Duration,
    /// `None`: no answer (transport error or the exchange timeout).
    status: Option<u16>,
}

struct Load {
    addr: SocketAddr,
    token: String,
    event_type: String,
    stop: AtomicBool,
    samples: Mutex<Vec<Sample>>,
    acked: Mutex<Vec<String>>,
}

async fn load_client(c: usize, load: Arc<Load>) {
    let mut i = 0usize;
    while !load.stop.load(Ordering::SeqCst) {
        let n = c * 1000 + i;
        let key = format!("outage-{n}");
        let req = booking_request(
            &load.token,
            &load.event_type,
            slot(5, n),
            &format!("outage{n}@example.com"),
            &key,
        );
        // Retry this key until acknowledged (or the load stops).
        while !load.stop.load(Ordering::SeqCst) {
            let sent = Instant::now();
            let r = raw::send(load.addr, &req).await;
            let took = sent.elapsed();
            let status = r.as_ref().ok().map(|a| a.status);
            load.samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Sample { sent, took, status });
            if let Ok(a) = r
                && (a.status == 201 || a.status == 200)
            {
                if let Some(uid) = a.json()["data"]["uid"].as_str() {
                    load.acked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(uid.to_owned());
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        i += 1;
    }
}

async fn status(addr: SocketAddr, token: Option<&str>, path: &str) -> Option<u16> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &[u8])> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a.as_bytes())])
        .unwrap_or_default();
    raw::send(addr, &raw::request(b"GET", path.as_bytes(), &headers, b""))
        .await
        .ok()
        .map(|a| a.status)
}

/// Polls until `probe` answers `want` (every 50 ms, at most `bound`); how long it took.
async fn until(
    bound: Duration,
    want: u16,
    probe: impl AsyncFn() -> Option<u16>,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < bound {
        if probe().await == Some(want) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

pub async fn row(bin: &Path, outage: Duration) -> Row {
    match run(bin, outage).await {
        Ok(r) => r,
        Err(e) => Row::error(CHECK, "postgres", &e),
    }
}

async fn run(bin: &Path, outage: Duration) -> anyhow::Result<Row> {
    let cluster = PrivateCluster::start_new().await?;
    let url = cluster.url();
    let dir = TempDir::new("slotbook-faults-outage")?;
    let seeded = seed::seed(&url, PEPPER).await?;
    let server =
        harness::spawn_slotbook(harness::slotbook_command(bin, &dir.0, &url), &dir.0).await?;
    let addr = server.addr;
    let load = Arc::new(Load {
        addr,
        token: seeded.token.clone(),
        event_type: seeded.booking_event_type.clone(),
        stop: AtomicBool::new(false),
        samples: Mutex::new(Vec::new()),
        acked: Mutex::new(Vec::new()),
    });
    let clients: Vec<_> = (0..LOAD_CLIENTS)
        .map(|c| tokio::spawn(load_client(c, load.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let acked_before = load.acked.lock().unwrap_or_else(|p| p.into_inner()).len();

    cluster.stop_immediate().await?;
    let stopped = Instant::now();
    let readyz = until(READYZ + Duration::from_secs(5), 503, async || {
        status(addr, None, "/readyz").await
    })
    .await;
    let rest = outage.saturating_sub(stopped.elapsed());
    tokio::time::sleep(rest).await;
    let restarting = Instant::now();
    cluster.start().await?;
    let up = Instant::now();
    let token = seeded.token.clone();
    let read_back = until(RECOVERY * 3, 200, async || {
        status(addr, Some(&token), "/v1/bookings?limit=1").await
    })
    .await;
    let write_back = {
        let started = Instant::now();
        let mut back = None;
        while started.elapsed() < RECOVERY * 3 {
            let ok = load
                .samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|s| s.sent >= up && s.status == Some(201));
            if ok {
                back = Some(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        back
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    load.stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.await;
    }
    let acked = load.acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let listed = stored(addr, &seeded.token, &seeded.booking_event_type).await?;
    let ledger = Ledger::of(&acked, &listed);
    server.stop().await?;
    drop(cluster);

    let samples = load
        .samples
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.sent >= stopped && s.sent < restarting)
        .collect();
    let n503 = during.iter().filter(|s| s.status == Some(503)).count();
    let n500 = samples.iter().filter(|s| s.status == Some(500)).count();
    let unanswered = during.iter().filter(|s| s.status.is_none()).count();
    let slowest = during.iter().map(|s| s.took).max().unwrap_or_default();
    let fmt = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{} ms", ms(d)));
    let pass = !during.is_empty()
        && n503 > 0
        && n500 == 0
        && unanswered == 0
        && slowest <= FAST
        && readyz.is_some_and(|d| d <= READYZ)
        && read_back.is_some_and(|d| d <= RECOVERY)
        && write_back.is_some_and(|d| d <= RECOVERY)
        && ledger.lost == 0
        && ledger.duplicates == 0
        && acked_before > 0;
    let figure = format!(
        "{} s outage: {} requests during it, {n503} × 503, slowest {} ms (bound {} s), \
         {unanswered} unanswered, {n500} × 500 overall; /readyz 503 after {}; back after the \
         database: reads {}, writes {} (bound {} s); acknowledged {} ⊆ stored {}: {} lost, {} duplicates",
        outage.as_secs(),
        during.len(),
        ms(slowest),
        FAST.as_secs(),
        fmt(readyz),
        fmt(read_back),
        fmt(write_back),
        RECOVERY.as_secs(),
        ledger.acknowledged,
        ledger.stored,
        ledger.lost,
        ledger.duplicates,
    );
    Ok(Row::new(CHECK, "postgres", figure, pass))
}
