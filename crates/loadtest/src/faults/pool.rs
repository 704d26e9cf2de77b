//! Pool exhaustion: `slotbook serve` on Postgres with a pool of [`POOL`] connections and a
//! 1 s acquire timeout; `psql` holds `LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE` for
//! [`HOLD`], so booking creates block while holding their pooled connection. [`CLIENTS`]
//! creates at once: the few that got a connection wait for the lock (and then succeed or get
//! 503 at the stores' 5 s lock timeout, [`LOCK_WAIT`]), every other one is answered `503`
//! within the acquire timeout plus slack ([`FAST`]) — never 500,
//! never a hang; `/healthz` keeps answering meanwhile, and after the lock is released a new
//! booking succeeds.

use super::pg::{psql, psql_value};
use super::{Row, booking_request, ms, slot};
use crate::harness::{self, PEPPER, TempDir};
use crate::{raw, seed};
use anyhow::{Context as _, bail};
use std::path::Path;
use std::time::{Duration, Instant};

const CHECK: &str = "pool exhaustion (pool 2, 30 creates blocked on a table lock)";
pub const POOL: u32 = 2;
pub const CLIENTS: usize = 30;
const ACQUIRE_MS: u64 = 1000;
/// A 503 for want of a connection must come this fast.
pub const FAST: Duration = Duration::from_millis(ACQUIRE_MS + 1500);
pub const HOLD: Duration = Duration::from_secs(6);
/// The [`POOL`] creates that hold a connection wait for the table lock up to the stores' 5 s
/// lock timeout, then answer 503: this fast.
pub const LOCK_WAIT: Duration = Duration::from_millis(5000 + 1500);

pub async fn row(bin: &Path) -> Row {
    match run(bin).await {
        Ok(r) => r,
        Err(e) => Row::error(CHECK, "postgres", &e),
    }
}

async fn run(bin: &Path) -> anyhow::Result<Row> {
    let dir = TempDir::new("slotbook-faults-pool")?;
    let (_, url) = store_postgres::testing::fresh_database()
        .await
        .context("creating a Postgres database")?;
    let seeded = seed::seed(&url, PEPPER).await?;
    let mut cmd = harness::slotbook_command(bin, &dir.0, &url);
    cmd.env("SLOTBOOK__DATABASE__MAX_CONNECTIONS", POOL.to_string())
        .env(
            "SLOTBOOK__DATABASE__ACQUIRE_TIMEOUT_MS",
            ACQUIRE_MS.to_string(),
        )
        .env("SLOTBOOK__RATE_LIMIT__SHARED", "memory")
        .env("SLOTBOOK__WEBHOOKS__WORKER", "false")
        .env("SLOTBOOK__NOTIFICATIONS__WORKER", "false");
    let server = harness::spawn_slotbook(cmd, &dir.0).await?;
    let addr = server.addr;

    let mut locker = psql(
        &url,
        &format!(
            "BEGIN; LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({}); COMMIT;",
            HOLD.as_secs()
        ),
    )?;
    let held_sql = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                    WHERE c.relname = 'bookings' AND l.mode = 'AccessExclusiveLock' AND l.granted";
    let waited = Instant::now();
    while psql_value(&url, held_sql).await? != "1" {
        if waited.elapsed() > Duration::from_secs(20) {
            bail!("psql did not take the table lock within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let locked_at = Instant::now();

    let handles: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let req = booking_request(
                &seeded.token,
                &seeded.booking_event_type,
                slot(7, n),
                &format!("pool{n}@example.com"),
                &format!("pool-{n}"),
            );
            tokio::spawn(async move {
                let sent = Instant::now();
                let r = raw::send(addr, &req).await;
                let took = sent.elapsed();
                if let Ok(a) = &r
                    && a.status >= 500
                    && a.status != 503
                {
                    let j = a.json();
                    eprintln!(
                        "pool exhaustion: {} {} {} after {} ms",
                        a.status,
                        j["error"]["code"],
                        j["error"]["message"],
                        took.as_millis()
                    );
                }
                (took, r.ok().map(|a| a.status))
            })
        })
        .collect();
    // The server itself stays responsive.
    let health = raw::send(addr, &raw::request(b"GET", b"/healthz", &[], b"")).await;
    let health_ok = health.as_ref().is_ok_and(|a| a.status == 200);
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.context("a client panicked")?);
    }
    let _ = tokio::time::timeout(HOLD + Duration::from_secs(30), locker.wait()).await;
    let released_after = locked_at.elapsed();
    let after = raw::send(
        addr,
        &booking_request(
            &seeded.token,
            &seeded.booking_event_type,
            slot(7, CLIENTS + 1),
            "pool-after@example.com",
            "pool-after",
        ),
    )
    .await
    .ok()
    .map(|a| a.status);
    server.stop().await?;

    let mut n503: Vec<Duration> = answers
        .iter()
        .filter(|(_, s)| *s == Some(503))
        .map(|(t, _)| *t)
        .collect();
    n503.sort();
    let slowest_503 = n503.last().copied().unwrap_or_default();
    // Without the (at most POOL) lock waiters, the slowest 503 for want of a connection.
    let waiters = usize::try_from(POOL).unwrap_or(0).min(n503.len());
    let slowest_no_conn = n503[..n503.len() - waiters]
        .last()
        .copied()
        .unwrap_or_default();
    let created = answers.iter().filter(|(_, s)| *s == Some(201)).count();
    let n500 = answers.iter().filter(|(_, s)| *s == Some(500)).count();
    let unanswered = answers.iter().filter(|(_, s)| s.is_none()).count();
    let other = answers.len() - n503.len() - created - n500 - unanswered;
    let slowest = answers.iter().map(|(t, _)| *t).max().unwrap_or_default();
    let pass = n503.len() >= CLIENTS - usize::try_from(POOL).unwrap_or(0) * 2
        && slowest_no_conn <= FAST
        && slowest_503 <= LOCK_WAIT
        && n500 == 0
        && unanswered == 0
        && other == 0
        && health_ok
        && after == Some(201);
    let figure = format!(
        "{CLIENTS} creates: {} × 503 (without a connection: slowest {} ms, bound {} ms; \
         lock waiters: slowest {} ms, bound {} ms), {created} × 201 after the lock, \
         {n500} × 500, {other} other, {unanswered} unanswered (slowest answer {} ms, lock held {} ms); \
         /healthz meanwhile {}; after release: {}",
        n503.len(),
        ms(slowest_no_conn),
        ms(FAST),
        ms(slowest_503),
        ms(LOCK_WAIT),
        ms(slowest),
        ms(released_after),
        if health_ok { "200" } else { "failed" },
        after.map_or("no answer".to_owned(), |s| s.to_string()),
    );
    Ok(Row::new(CHECK, "postgres", figure, pass))
}
