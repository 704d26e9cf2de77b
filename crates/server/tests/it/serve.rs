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
