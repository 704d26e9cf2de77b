//! What every benchmark binary shares: the process entry (`Ctrl-C` ends the run with an error,
//! a failure prints its chain and exits non-zero), a temporary directory removed on drop, the
//! sibling binaries of the target directory, and `slotbook serve` started as a child on a free
//! loopback port with the fixed pepper and raised rate limits.

use crate::children::Server;
use anyhow::{Context as _, ensure};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// The token-hash pepper given to both the seeding code and the server.
pub const PEPPER: &str = "loadtest-pepper-0123456789abcdef0123456789abcdef";
/// Requests per minute the rate limits are raised to.
pub const RATE_LIMIT: u64 = 1_000_000_000;

/// Runs `run` to completion or until `Ctrl-C`; prints the error chain on failure.
pub async fn main_with(run: impl Future<Output = anyhow::Result<()>>) -> std::process::ExitCode {
    let result = tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `<tmp>/<prefix>-<pid>-<nanos>`, created.
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let nanos = Timestamp::now().as_nanosecond();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `explicit`, else the binary `name` next to this one; it must exist.
pub fn sibling(explicit: Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name(name),
    };
    ensure!(
        path.is_file(),
        "{} not found; build it first: cargo build --release -p server -p loadtest --bins",
        path.display()
    );
    Ok(path)
}

/// `bin serve` in `dir` on `database_url`: no configuration file, `RUST_LOG` unset, port 0 on
/// loopback, [`PEPPER`], both rate limits raised to [`RATE_LIMIT`]. Add settings with
/// `SLOTBOOK__…` variables before [`spawn_slotbook`].
pub fn slotbook_command(bin: &Path, dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .current_dir(dir)
        .env_remove("SLOTBOOK_CONFIG")
        .env_remove("RUST_LOG")
        .env("SLOTBOOK__DATABASE__URL", database_url)
        .env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:0")
        .env("SLOTBOOK__SECURITY__PEPPER", PEPPER)
        .env(
            "SLOTBOOK__RATE_LIMIT__AUTHENTICATED_PER_MINUTE",
            RATE_LIMIT.to_string(),
        )
        .env(
            "SLOTBOOK__RATE_LIMIT__ANONYMOUS_PER_MINUTE",
            RATE_LIMIT.to_string(),
        );
    cmd
}

/// Starts `cmd` with its standard error appended to `dir/slotbook.log` and waits (≤ 60 s) until
/// it listens.
pub async fn spawn_slotbook(mut cmd: Command, dir: &Path) -> anyhow::Result<Server> {
    let log_path = dir.join("slotbook.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    cmd.stderr(log);
    Server::spawn("slotbook serve", cmd, Duration::from_secs(60))
        .await
        .with_context(|| format!("see {}", log_path.display()))
}

/// One timed start of `slotbook serve`.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// From just before `exec` to the first `200` of `GET /readyz`.
    pub elapsed: Duration,
    /// Resident memory right after that answer, KiB.
    pub rss_kib: Option<u64>,
}

/// Starts `cmd` (as [`spawn_slotbook`] does), polls `GET /readyz` on fresh connections until it
/// answers `200` (≤ 60 s), measures, and stops the server again.
pub async fn time_to_ready(cmd: Command, dir: &Path) -> anyhow::Result<Ready> {
    let started = std::time::Instant::now();
    let server = spawn_slotbook(cmd, dir).await?;
    let probe = crate::load::Scenario {
        name: "/readyz".into(),
        addr: server.addr,
        bearer: None,
        target: crate::load::Target::Get {
            path: "/readyz".into(),
        },
    };
    let ready = loop {
        if let Ok((200, _)) = crate::load::probe(&probe).await {
            break Ready {
                elapsed: started.elapsed(),
                rss_kib: server.rss_kib(),
            };
        }
        ensure!(
            started.elapsed() < Duration::from_secs(60),
            "/readyz did not answer 200 within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    server.stop().await?;
    Ok(ready)
}
