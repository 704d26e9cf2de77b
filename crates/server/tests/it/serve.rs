//! `slotbook serve`: the real binary on a free port with a fresh SQLite file, graceful exit on
//! SIGTERM; and the library's `serve` draining in-process.

use crate::support::{BOUND, Server, TempDir, find_pat, is_pat, pepper};
use server::wiring::{self, SystemClock, UuidV7};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::support::client;

/// Polls `/healthz` until it answers 200 (bounded): waiting for readiness.
pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
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

/// Issue 17 item 9: after SIGTERM `/readyz` answers 503 while the server keeps accepting and
/// serving for `shutdown_grace_secs`; then it stops accepting, lets the request in flight
/// finish, closes its pools and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_keeps_serving_for_the_grace_period_then_drains() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = TempDir::new();
    let server = Server::start_with(
        &dir,
        &dir.sqlite_url(),
        &[],
        &[("SLOTBOOK__HTTP__SHUTDOWN_GRACE_SECS", "4")],
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Fresh connections only: each request below proves the listener still accepts.
    let http = crate::support::unpooled_client();
    wait_healthy(&http, &server.base).await;

    // A request in flight across the whole shutdown: its body is still arriving.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\ngrant_type=",
    )
    .await
    .unwrap();

    server.signal_term();
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        let r = http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
            break;
        }
        assert_eq!(r.status(), 200);
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz never turned 503"
        );
        tokio::task::yield_now().await;
    }
    // Still serving during the grace period, on a new connection.
    let r = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "served during the grace period");

    // After the grace period the listener closes (connections are refused)...
    let deadline = std::time::Instant::now() + BOUND;
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener never closed"
        );
        tokio::task::yield_now().await;
    }
    // ...while the request in flight still gets its answer.
    slow.write_all(b"nonsense&x=yyyyyyyy").await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(BOUND, slow.read_to_end(&mut got))
        .await
        .expect("the in-flight request was answered in time")
        .unwrap();
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 4"), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("connection: close"),
        "the drained connection closes after its answer: {got}"
    );
    assert_eq!(
        server.wait().code(),
        Some(0),
        "a clean exit after the drain"
    );
}

/// `[metrics]` through the real binary's configuration: a token makes `/metrics` answer only
/// that bearer token (401 otherwise); `enabled = false` makes it 404.
#[tokio::test]
async fn metrics_can_require_a_token_or_be_off() {
    let token = "metrics-config-token-0123456789";
    let dir = TempDir::new();
    let server = Server::start_with(
        &dir,
        &dir.sqlite_url(),
        &[],
        &[("SLOTBOOK__METRICS__TOKEN", token)],
    );
    let client = client();
    wait_healthy(&client, &server.base).await;
    let url = format!("{}/metrics", server.base);
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = client.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("http_requests_total"));
    server.terminate();

    let dir = TempDir::new();
    let server = Server::start_with(
        &dir,
        &dir.sqlite_url(),
        &[],
        &[("SLOTBOOK__METRICS__ENABLED", "false")],
    );
    wait_healthy(&client, &server.base).await;
    let r = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.terminate();
}
