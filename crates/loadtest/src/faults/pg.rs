//! A private, throwaway Postgres cluster that the outage row may stop and start: `initdb` in a
//! fresh directory under the temp dir, listening on a free loopback port (and a Unix socket in
//! its own directory), trust authentication, run as the `postgres` OS user when this process
//! is root (initdb refuses root). Never the shared server. Stopped (immediately) and removed on
//! drop.

use anyhow::{Context as _, bail};
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;

/// The newest `/usr/lib/postgresql/<major>/bin` holding `initdb`.
fn bin_dir() -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no /usr/lib/postgresql (Postgres server binaries)")?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|(_, b)| b)
        .context("no initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A running private cluster.
pub struct PrivateCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivateCluster {
    /// `initdb` and start.
    pub async fn start_new() -> anyhow::Result<Self> {
        let bin = bin_dir()?;
        let nanos = jiff::Timestamp::now().as_nanosecond();
        let dir =
            std::env::temp_dir().join(format!("slotbook-faults-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir)).await?;
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.data();
        run(cluster.cmd("initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-instructions",
        ]))
        .await
        .context("initdb of the private cluster")?;
        cluster.start().await?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn cmd(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting (≤ 60 s) until it accepts connections.
    pub async fn start(&self) -> anyhow::Result<()> {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        run(self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"]))
        .await
        .context("pg_ctl start of the private cluster")
    }

    /// `pg_ctl stop -m immediate`: every backend is killed, no checkpoint (crash recovery at
    /// the next start).
    pub async fn stop_immediate(&self) -> anyhow::Result<()> {
        run(self.cmd("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
            "stop",
        ]))
        .await
        .context("pg_ctl stop of the private cluster")
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let mut c = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            std::process::Command::new(path)
        };
        let _ = c
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` (≤ 90 s), failing with its output when it does not succeed.
async fn run(cmd: &mut Command) -> anyhow::Result<()> {
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .context("timed out")??;
    if !out.status.success() {
        bail!(
            "{:?} failed: {}{}",
            cmd.as_std().get_program(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// `psql` running `sql` against `url` in the background (the caller waits or kills it).
pub fn psql(url: &str, sql: &str) -> anyhow::Result<tokio::process::Child> {
    Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("running psql (the Postgres client)")
}

/// `psql -tA -c sql`: the trimmed output.
pub async fn psql_value(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("psql")
            .arg(url)
            .args(["-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("psql timed out")??;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
