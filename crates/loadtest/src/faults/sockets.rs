//! Idle and slowloris sockets: `slotbook serve` (SQLite) with a 1 s keep-alive idle timeout and
//! a 2 s header-read timeout. `idle` sockets connect and send nothing; `slow` sockets send a
//! request line and then one header line every 300 ms, never finishing the head. Each must be
//! closed by the server within its timeout plus [`SLACK`], while `normal` requests sent
//! meanwhile (`/healthz`, 4 at a time) all answer 200.

use super::{Row, ms};
use crate::harness::{self, TempDir};
use crate::raw;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const IDLE: Duration = Duration::from_secs(1);
const HEADER_READ: Duration = Duration::from_secs(2);
/// Allowed lateness of a close on a loaded machine.
pub const SLACK: Duration = Duration::from_secs(2);
/// A socket still open after this is reported as never closed.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Connects and waits for the server to close the socket (see [`Watched`]).
async fn watch(addr: SocketAddr, slow: bool) -> Watched {
    match TcpStream::connect(addr).await {
        Ok(s) => match watch_open(s, slow).await {
            Some(d) => Watched::Closed(d),
            None => Watched::Open,
        },
        Err(_) => Watched::NoConnect,
    }
}

/// What became of one socket.
#[derive(Debug, Clone, Copy)]
enum Watched {
    Closed(Duration),
    /// Still open after [`GIVE_UP`].
    Open,
    /// The connect itself failed.
    NoConnect,
}

/// How long until the server closed `s` (`None`: not within [`GIVE_UP`]).
async fn watch_open(s: TcpStream, slow: bool) -> Option<Duration> {
    let started = Instant::now();
    let (mut r, mut w) = s.into_split();
    let mut buf = [0u8; 1024];
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    if slow {
        w.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .ok()?;
    }
    let deadline = tokio::time::sleep(GIVE_UP);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            n = r.read(&mut buf) => match n {
                Ok(0) | Err(_) => return Some(started.elapsed()),
                Ok(_) => {}
            },
            _ = tick.tick(), if slow => {
                if w.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return Some(started.elapsed());
                }
            }
            () = &mut deadline => return None,
        }
    }
}

pub async fn row(bin: &Path, idle: usize, slow: usize, normal: usize) -> Row {
    let check = format!("{idle} idle + {slow} slowloris sockets closed, requests still served");
    match run(bin, idle, slow, normal, &check).await {
        Ok(r) => r,
        Err(e) => Row::error(&check, "sqlite", &e),
    }
}

async fn run(
    bin: &Path,
    idle: usize,
    slow: usize,
    normal: usize,
    check: &str,
) -> anyhow::Result<Row> {
    server::http_server::raise_nofile_limit();
    let dir = TempDir::new("slotbook-faults-sockets")?;
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("sockets.db").display());
    let mut cmd = harness::slotbook_command(bin, &dir.0, &url);
    cmd.env(
        "SLOTBOOK__HTTP__KEEP_ALIVE_IDLE_SECS",
        IDLE.as_secs().to_string(),
    )
    .env(
        "SLOTBOOK__HTTP__HEADER_READ_TIMEOUT_SECS",
        HEADER_READ.as_secs().to_string(),
    );
    let mut server = harness::spawn_slotbook(cmd, &dir.0).await?;
    let addr = server.addr;
    let idle_tasks: Vec<_> = (0..idle)
        .map(|_| tokio::spawn(watch(addr, false)))
        .collect();
    let slow_tasks: Vec<_> = (0..slow).map(|_| tokio::spawn(watch(addr, true))).collect();
    let req = raw::request(b"GET", b"/healthz", &[], b"");
    let mut ok = 0usize;
    let mut slowest_normal = Duration::ZERO;
    let mut sent = 0usize;
    while sent < normal {
        let batch: Vec<_> = (0..4.min(normal - sent))
            .map(|_| {
                let req = req.clone();
                tokio::spawn(async move {
                    let t = Instant::now();
                    let r = raw::send(addr, &req).await;
                    (t.elapsed(), r.is_ok_and(|a| a.status == 200))
                })
            })
            .collect();
        sent += batch.len();
        for h in batch {
            if let Ok((t, good)) = h.await {
                ok += usize::from(good);
                slowest_normal = slowest_normal.max(t);
            }
        }
    }
    let collect = async |tasks: Vec<tokio::task::JoinHandle<Watched>>| {
        let mut closed = Vec::new();
        let (mut never, mut no_connect) = (0usize, 0usize);
        for t in tasks {
            match t.await {
                Ok(Watched::Closed(d)) => closed.push(d),
                Ok(Watched::NoConnect) => no_connect += 1,
                _ => never += 1,
            }
        }
        (
            closed.iter().max().copied().unwrap_or_default(),
            never,
            closed.len(),
            no_connect,
        )
    };
    let (idle_max, idle_never, idle_closed, idle_nc) = collect(idle_tasks).await;
    let (slow_max, slow_never, slow_closed, slow_nc) = collect(slow_tasks).await;
    let alive = server.is_running();
    server.stop().await?;
    let pass = idle_never == 0
        && slow_never == 0
        && idle_closed == idle
        && slow_closed == slow
        && idle_max <= IDLE + SLACK
        && slow_max <= HEADER_READ + SLACK
        && ok == normal
        && alive;
    let figure = format!(
        "idle: {idle_closed}/{idle} closed ({idle_never} open after {} s, {idle_nc} connects \
         failed), slowest {} ms (timeout {} s); slowloris: {slow_closed}/{slow} closed \
         ({slow_never} open, {slow_nc} connects failed), slowest {} ms (timeout {} s); \
         {ok}/{normal} requests 200 meanwhile (slowest {} ms)",
        GIVE_UP.as_secs(),
        ms(idle_max),
        IDLE.as_secs(),
        ms(slow_max),
        HEADER_READ.as_secs(),
        ms(slowest_normal),
    );
    Ok(Row::new(check, "sqlite", figure, pass))
}
