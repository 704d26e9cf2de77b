//! Child processes of the benchmark: spawned with `kill_on_drop`, so an early error or a panic
//! never leaves a server running, and considered ready once they print
//! `listening on http://<addr>` on standard output (both `slotbook serve` and `bare-hello` do).
//! Also reads a process's resident memory (`VmRSS`) from `/proc/<pid>/status`.

use anyhow::{Context as _, bail};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The prefix both servers print once bound.
pub const LISTENING_PREFIX: &str = "listening on http://";

/// A running server child process.
pub struct Server {
    name: &'static str,
    child: Child,
    /// The bound loopback address.
    pub addr: SocketAddr,
    /// The operating-system process id.
    pub pid: u32,
}

impl Server {
    /// Spawns `cmd` (standard output is taken over; set standard error before) and waits up to
    /// `ready_timeout` for its `listening on http://…` line. The rest of its standard output is
    /// drained in the background so the child never blocks on a full pipe.
    pub async fn spawn(
        name: &'static str,
        mut cmd: Command,
        ready_timeout: Duration,
    ) -> anyhow::Result<Self> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| format!("spawning {name}"))?;
        let pid = child
            .id()
            .with_context(|| format!("{name} exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .with_context(|| format!("{name}: no standard output pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let wait_ready = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.trim().strip_prefix(LISTENING_PREFIX) {
                    let addr: SocketAddr = rest
                        .trim_end_matches('/')
                        .parse()
                        .with_context(|| format!("{name} printed an odd address: {line}"))?;
                    return Ok(addr);
                }
            }
            bail!("{name} closed its standard output before listening")
        };
        let addr = match tokio::time::timeout(ready_timeout, wait_ready).await {
            Ok(result) => result?,
            Err(_) => bail!("{name} did not report listening within {ready_timeout:?}"),
        };
        if !addr.ip().is_loopback() {
            bail!("{name} listens on {addr}, not on loopback");
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            name,
            child,
            addr,
            pid,
        })
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory in KiB, if the process still exists.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// Kills the process and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.is_running() {
            self.child
                .kill()
                .await
                .with_context(|| format!("stopping {}", self.name))?;
        }
        Ok(())
    }
}

/// `VmRSS` of `pid` in KiB, read from `/proc/<pid>/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

/// The `VmRSS:` value (KiB) of a `/proc/<pid>/status` text.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmRSS:")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_parsed() {
        let status = "Name:\tslotbook\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
