//! The scorecard's OpenAPI row: schemathesis (PyPI; `.ci/run` installs the pinned version) run
//! against a server's own `/openapi.json` with every check, seeded and derandomised (which
//! implies no example database: each run is reproducible and replays nothing from an earlier one), bounded
//! by examples per operation and a wall-clock timeout. Used by `slotbook-reliability` and, with
//! few examples, by the black-box scorecard tests on both stores.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What one run found.
#[derive(Debug)]
pub struct Outcome {
    /// schemathesis exited 0: no check failed.
    pub passed: bool,
    /// Its summary line, e.g. `35 passed in 43.94s`.
    pub summary: String,
    /// Where its full report is (the temporary directory).
    pub report: PathBuf,
}

/// Runs schemathesis against `http://{addr}/openapi.json` with `token`; `examples` per
/// operation; fails (never skips) when python3 or schemathesis is missing.
pub async fn run(addr: SocketAddr, token: &str, examples: u32, timeout: Duration) -> Outcome {
    let dir = std::env::temp_dir();
    let tag = addr.port();
    let report = dir.join(format!("slotbook-schemathesis-{tag}.txt"));
    let cassette = dir.join(format!("slotbook-schemathesis-{tag}-cassette.yaml"));
    let out = tokio::time::timeout(
        timeout,
        tokio::process::Command::new("python3")
            .args([
                "-m",
                "schemathesis.cli",
                "run",
                "--experimental=openapi-3.1",
            ])
            .arg(format!("http://{addr}/openapi.json"))
            .args([
                "--checks",
                "all",
                "--hypothesis-seed",
                "42",
                "--hypothesis-derandomize",
                "--hypothesis-deadline=60000",
                "--request-timeout=10000",
                "--workers=2",
            ])
            .arg(format!("--hypothesis-max-examples={examples}"))
            .arg(format!("--cassette-path={}", cassette.display()))
            .arg(format!("--header=Authorization: Bearer {token}"))
            .kill_on_drop(true)
            .output(),
    )
    .await;
    let (passed, summary) = match out {
        Ok(Ok(o)) => {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            std::fs::write(&report, &text).ok();
            let summary = text
                .lines()
                .rev()
                .find(|l| l.contains("passed") || l.contains("failed") || l.contains("errored"))
                .unwrap_or("no summary")
                .trim_matches(|c: char| c == '=' || c.is_whitespace())
                .to_owned();
            let stderr = String::from_utf8_lossy(&o.stderr);
            let summary = if o.status.success() {
                summary
            } else if stderr.contains("No module named") {
                format!("schemathesis is not installed: {}", stderr.trim())
            } else if summary == "no summary" {
                let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("no summary; stderr: {}", tail.join("\n"))
            } else {
                summary
            };
            (o.status.success(), summary)
        }
        Ok(Err(e)) => (false, format!("python3 not runnable: {e}")),
        Err(_) => (false, format!("timed out after {} s", timeout.as_secs())),
    };
    Outcome {
        passed,
        summary,
        report,
    }
}
