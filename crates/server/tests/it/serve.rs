//! `slotbook serve`: the real binary on a free port with a fresh SQLite file, graceful exit on
//! SIGTERM; and the library's `serve` draining in-process.

use crate::support::{TempDir, find_pat, is_pat, pepper, slotbook};
use server::wiring::{self, SystemClock, UuidV7};
use std::io::BufRead as _;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

/// How long start-up and shutdown may take before the test fails.
const BOUND: Duration = Duration::from_secs(60);

/// A running server process; killed if the test ends early.
struct Server {
    child: Option<Child>,
    /// Standard output lines printed before `listening on …`.
    preamble: Vec<String>,
    base: String,
}

impl Server {
    fn start(dir: &TempDir, args: &[&str]) -> Self {
        let mut cmd = slotbook(dir);
        cmd.env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:0")
            .env("SLOTBOOK__LOG__LEVEL", "warn")
            .env("SLOTBOOK__DATABASE__URL", dir.sqlite_url())
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            preamble: Vec::new(),
            base: String::new(),
        };
        loop {
            let line = rx
                .recv_timeout(BOUND)
                .expect("the server printed `listening on …` in time");
            if let Some(addr) = line.strip_prefix("listening on ") {
                server.base = addr.trim().to_owned();
                break;
            }
            server.preamble.push(line);
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    fn terminate(mut self) -> ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut child = self.child.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        rx.recv_timeout(BOUND)
            .expect("the server exited in time after SIGTERM")
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `/healthz` until it answers 200 (bounded): waiting for readiness.
/// A plain HTTP client (reqwest is built without a default TLS provider).
fn client() -> reqwest::Client {
    webhooks::install_crypto_provider();
    reqwest::Client::new()
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base}/healthz never answered 200");
}

#[tokio::test]
async fn serve_prints_first_start_help_and_exits_cleanly_on_sigterm() {
    let dir = TempDir::new();
    let server = Server::start(&dir, &[]);
    let preamble = server.preamble.join("\n");
    assert!(preamble.contains("no organization yet"), "{preamble}");
    assert!(preamble.contains("slotbook demo"), "{preamble}");

    let client = client();
    wait_healthy(&client, &server.base).await;
    let ready = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let unauthenticated = client
        .get(format!("{}/v1/_ping", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[tokio::test]
async fn serve_with_demo_prints_a_working_token() {
    let dir = TempDir::new();
    let server = Server::start(&dir, &["--demo"]);
    let preamble = server.preamble.join("\n");
    let token = find_pat(&preamble).expect("a token in the demo output");
    assert!(is_pat(&token));
    assert!(
        preamble.contains(&format!("{}/v1/_ping", server.base)),
        "{preamble}"
    );

    let client = client();
    wait_healthy(&client, &server.base).await;
    let ping = client
        .get(format!("{}/v1/_ping", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let body: serde_json::Value = ping.json().await.unwrap();
    assert_eq!(body["data"]["ok"], true);
    assert_eq!(body["data"]["auth_type"], "pat");

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");

    // A restart keeps the data (and the pepper): --demo is skipped, the token still works.
    let server = Server::start(&dir, &["--demo"]);
    assert!(find_pat(&server.preamble.join("\n")).is_none());
    wait_healthy(&client, &server.base).await;
    let ping = client
        .get(format!("{}/v1/_ping", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(server.terminate().code(), Some(0));
}

#[tokio::test]
async fn library_serve_drains_on_the_shutdown_signal() {
    let dir = TempDir::new();
    let opened = wiring::open_store(&dir.sqlite_url()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = http_api::ApiConfig {
        public_base_url: format!("http://{addr}"),
        ..http_api::ApiConfig::default()
    };
    let mut state = wiring::app_state(
        opened.storage.clone(),
        None,
        api.clone(),
        pepper(),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
    )
    .unwrap();
    // Installing the metrics recorder twice in one process is fine.
    state.metrics = Some(wiring::install_metrics().unwrap());
    let mut second = wiring::app_state(
        opened.storage,
        None,
        api,
        pepper(),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
    )
    .unwrap();
    second.metrics = Some(wiring::install_metrics().unwrap());
    assert!(!state.draining.load(Ordering::SeqCst));

    let draining = state.draining.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(wiring::serve(state, listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let client = client();
    wait_healthy(&client, &base).await;
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, task)
        .await
        .expect("serve returned in time")
        .unwrap()
        .unwrap();
    assert!(draining.load(Ordering::SeqCst), "draining was set");
}
