//! SIGKILL during a retrying booking storm: `clients` clients each book their own 5-minute
//! slot under their own `Idempotency-Key` and retry the same request (50 ms apart) on any
//! answer but a final one, following the server to its new port. Once a third of them are
//! acknowledged the server is killed (SIGKILL: no drain, nothing flushed) and started again
//! on the same database. Every client must then get its answer within [`AFTER_RESTART`]; each
//! client acknowledged before the kill replays its key once after the restart and must get the
//! same booking. Then: acknowledged ⊆ stored, one stored booking per client, no 500, and on
//! SQLite `PRAGMA integrity_check` = `ok`.

use super::{Ledger, Row, booking_request, ms, slot, stored};
use crate::children::Server;
use crate::harness::{self, PEPPER, TempDir};
use crate::{raw, seed};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

const CHECK: &str = "SIGKILL during a retrying booking storm";

/// How long after the restart every client must have its answer (a key whose request was
/// cut by the kill must not stay `409 idempotency_in_progress` longer than this).
pub const AFTER_RESTART: Duration = Duration::from_secs(60);

/// The kill happens once this fraction of clients (1/N) is acknowledged, or after
/// [`KILL_AFTER_AT_MOST`].
const KILL_AT: usize = 3;
const KILL_AFTER_AT_MOST: Duration = Duration::from_secs(20);

/// What every client shares.
struct Ctx {
    addr: RwLock<SocketAddr>,
    token: String,
    event_type: String,
    acked: AtomicUsize,
    restarted: OnceLock<Instant>,
    started: Instant,
}

impl Ctx {
    fn addr(&self) -> SocketAddr {
        *self.addr.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// One client's story.
#[derive(Debug, Default)]
struct Outcome {
    uid: Option<String>,
    /// When it was acknowledged, relative to the restart (`None`: before the restart).
    after_restart: Option<Duration>,
    acked_before_kill: bool,
    /// The replay after the restart returned the same booking (`None`: not replayed).
    replay_same: Option<bool>,
    in_progress: u32,
    errors_500: u32,
    /// A final answer that is neither success nor retryable (a 4xx other than 409/429).
    refused: Option<u16>,
}

async fn client(n: usize, ctx: Arc<Ctx>) -> Outcome {
    let key = format!("kill-storm-{n}");
    let email = format!("kill{n}@example.com");
    let req = booking_request(&ctx.token, &ctx.event_type, slot(3, n), &email, &key);
    let mut out = Outcome::default();
    loop {
        let now = Instant::now();
        match ctx.restarted.get() {
            Some(r) if now > *r + AFTER_RESTART => return out,
            None if now > ctx.started + KILL_AFTER_AT_MOST + AFTER_RESTART * 2 => return out,
            _ => {}
        }
        match raw::send(ctx.addr(), &req).await {
            Ok(a) if a.status == 201 || a.status == 200 => {
                out.uid = a.json()["data"]["uid"].as_str().map(str::to_owned);
                out.after_restart = ctx.restarted.get().map(|r| r.elapsed());
                out.acked_before_kill = ctx.restarted.get().is_none();
                ctx.acked.fetch_add(1, Ordering::SeqCst);
                break;
            }
            Ok(a) if a.status == 409 => {
                if a.json()["error"]["code"] == "idempotency_in_progress" {
                    out.in_progress += 1;
                } else {
                    out.refused = Some(a.status);
                    return out;
                }
            }
            Ok(a) if a.status == 500 => out.errors_500 += 1,
            Ok(a) if (400..500).contains(&a.status) && a.status != 429 => {
                out.refused = Some(a.status);
                return out;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if out.acked_before_kill {
        // Replay the key once against the restarted server.
        let bound = Instant::now() + KILL_AFTER_AT_MOST + AFTER_RESTART;
        while ctx.restarted.get().is_none() && Instant::now() < bound {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        while Instant::now() < bound {
            match raw::send(ctx.addr(), &req).await {
                Ok(a) if a.status == 201 || a.status == 200 => {
                    out.replay_same = Some(a.json()["data"]["uid"].as_str() == out.uid.as_deref());
                    break;
                }
                Ok(a) if a.status == 500 => out.errors_500 += 1,
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    out
}

async fn spawn(bin: &Path, dir: &Path, url: &str) -> anyhow::Result<Server> {
    harness::spawn_slotbook(harness::slotbook_command(bin, dir, url), dir).await
}

/// The row for `backend` (`sqlite` or `postgres`).
pub async fn row(bin: &Path, backend: &str, clients: usize) -> Row {
    match run(bin, backend, clients).await {
        Ok(r) => r,
        Err(e) => Row::error(CHECK, backend, &e),
    }
}

async fn run(bin: &Path, backend: &str, clients: usize) -> anyhow::Result<Row> {
    let dir = TempDir::new("slotbook-faults-kill")?;
    let url = match backend {
        "sqlite" => format!("sqlite://{}?mode=rwc", dir.0.join("kill.db").display()),
        _ => {
            store_postgres::testing::fresh_database()
                .await
                .context("creating a Postgres database")?
                .1
        }
    };
    let seeded = seed::seed(&url, PEPPER).await?;
    let first = spawn(bin, &dir.0, &url).await?;
    let ctx = Arc::new(Ctx {
        addr: RwLock::new(first.addr),
        token: seeded.token.clone(),
        event_type: seeded.booking_event_type.clone(),
        acked: AtomicUsize::new(0),
        restarted: OnceLock::new(),
        started: Instant::now(),
    });
    let handles: Vec<_> = (0..clients)
        .map(|n| tokio::spawn(client(n, ctx.clone())))
        .collect();
    let want = clients.div_ceil(KILL_AT).max(1);
    while ctx.acked.load(Ordering::SeqCst) < want && ctx.started.elapsed() < KILL_AFTER_AT_MOST {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.stop().await?;
    let at_kill = ctx.acked.load(Ordering::SeqCst);
    let second = spawn(bin, &dir.0, &url).await?;
    *ctx.addr.write().unwrap_or_else(|p| p.into_inner()) = second.addr;
    let _ = ctx.restarted.set(Instant::now());

    let mut outcomes = Vec::with_capacity(clients);
    for h in handles {
        outcomes.push(h.await.context("a storm client panicked")?);
    }
    let acked: Vec<String> = outcomes.iter().filter_map(|o| o.uid.clone()).collect();
    let listed = stored(second.addr, &seeded.token, &seeded.booking_event_type).await?;
    let ledger = Ledger::of(&acked, &listed);
    second.stop().await?;

    let stuck = outcomes
        .iter()
        .filter(|o| o.uid.is_none() && o.refused.is_none())
        .count();
    let refused = outcomes.iter().filter(|o| o.refused.is_some()).count();
    let slowest = outcomes
        .iter()
        .filter_map(|o| o.after_restart)
        .max()
        .unwrap_or_default();
    let answered_after = outcomes
        .iter()
        .filter(|o| o.after_restart.is_some())
        .count();
    let replays = outcomes.iter().filter(|o| o.replay_same.is_some()).count();
    let replay_bad = outcomes
        .iter()
        .filter(|o| o.acked_before_kill && o.replay_same != Some(true))
        .count();
    let in_progress: u32 = outcomes.iter().map(|o| o.in_progress).sum();
    let errors_500: u32 = outcomes.iter().map(|o| o.errors_500).sum();
    let integrity = if backend == "sqlite" {
        let store = store_sqlite::SqliteStore::connect(&url).await?;
        let r = store.integrity_check().await?;
        store.pool().close().await;
        Some(r)
    } else {
        None
    };
    let integrity_ok = integrity.as_deref().is_none_or(|r| r == "ok");
    let pass = ledger.lost == 0
        && ledger.duplicates == 0
        && ledger.stored == ledger.acknowledged
        && stuck == 0
        && refused == 0
        && replay_bad == 0
        && errors_500 == 0
        && integrity_ok;
    let mut figure = format!(
        "{clients} clients, SIGKILL after {at_kill} acknowledged; acknowledged {} ⊆ stored {}: \
         {} lost, {} duplicates; {answered_after} answered after the restart (slowest {} ms, bound {} s), \
         {stuck} stuck; {replays} replays, {replay_bad} not the same booking; {in_progress} × 409 \
         idempotency_in_progress, {errors_500} × 500, {refused} refused",
        ledger.acknowledged,
        ledger.stored,
        ledger.lost,
        ledger.duplicates,
        ms(slowest),
        AFTER_RESTART.as_secs(),
    );
    if let Some(r) = &integrity {
        figure.push_str(&format!(
            "; integrity_check: {}",
            r.lines().next().unwrap_or("")
        ));
    }
    Ok(Row::new(CHECK, backend, figure, pass))
}
