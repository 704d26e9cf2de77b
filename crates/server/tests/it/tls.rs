//! TLS termination of the real `slotbook serve` (issue 17 item 10, contract §6.3), on SQLite
//! and Postgres: certificates generated here with `rcgen` (two independent CAs, so a client
//! trusting one CA tells which certificate a new connection got), HTTPS through reqwest with
//! rustls trusting only that CA.
//!
//! - a request over TLS succeeds (health, readiness and an authenticated API read);
//! - plain HTTP to the TLS port gets no HTTP answer (there is no plain listener);
//! - a silent TCP client (no ClientHello) is closed within the header-read timeout;
//! - SIGHUP with a broken certificate file keeps the old certificate (the failure is counted
//!   in `/metrics`), SIGHUP with a new pair makes new connections see the new certificate;
//! - a missing or non-PEM file stops the start-up with an error naming the key and the file.
//!
//! Every wait is on a response, a socket event or a process exit, with a bound.

use crate::support::{BOUND, Server, TempDir, run, seed_host, slotbook};
use rustls::pki_types::CertificateDer;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt as _;

const PEPPER: &str = "tls-process-test-pepper-0123456789abcdef";

/// A certificate authority able to issue `127.0.0.1` server certificates.
struct Ca {
    der: Vec<u8>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().to_vec(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A leaf for 127.0.0.1: (certificate PEM, key PEM).
    fn leaf(&self) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// An HTTPS client trusting only this CA, opening a new connection (a full handshake,
    /// no session resumption) per request.
    fn client(&self) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(self.der.clone())).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut tls = tls;
        // A resumed session is not re-authenticated (no certificate is sent): it would keep
        // the old certificate's identity, and the test wants to see the one offered now.
        tls.resumption = rustls::client::Resumption::disabled();
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .pool_max_idle_per_host(0)
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }
}

struct Files {
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn write(&self, (cert, key): &(String, String)) {
        std::fs::write(&self.cert, cert).unwrap();
        std::fs::write(&self.key, key).unwrap();
    }
}

fn files(dir: &TempDir) -> Files {
    Files {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    }
}

fn tls_env(f: &Files) -> Vec<(&'static str, String)> {
    vec![
        (
            "SLOTBOOK__HTTP__TLS__CERT_PATH",
            f.cert.display().to_string(),
        ),
        ("SLOTBOOK__HTTP__TLS__KEY_PATH", f.key.display().to_string()),
        ("SLOTBOOK__SECURITY__PEPPER", PEPPER.to_owned()),
        ("SLOTBOOK__HTTP__HEADER_READ_TIMEOUT_SECS", "2".to_owned()),
        ("SLOTBOOK__HTTP__KEEP_ALIVE_IDLE_SECS", "1".to_owned()),
        ("SLOTBOOK__WEBHOOKS__WORKER", "false".to_owned()),
        ("SLOTBOOK__NOTIFICATIONS__WORKER", "false".to_owned()),
    ]
}

async fn status(client: &reqwest::Client, url: &str, token: Option<&str>) -> Result<u16, String> {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

/// Polls `probe` until it holds, at most [`BOUND`].
async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < BOUND {
        if probe().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within {BOUND:?}");
}

fn sighup(server: &Server) {
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -HUP");
}

async fn serves_https_only_and_reloads_on_sighup(database_url: &str) {
    let dir = TempDir::new();
    let f = files(&dir);
    let (ca_a, ca_b) = (Ca::new("Test CA A"), Ca::new("Test CA B"));
    f.write(&ca_a.leaf());
    let seeded = seed_host(database_url, PEPPER, "TLS Org").await;
    let env = tls_env(&f);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&dir, database_url, &[], &env);
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let addr = base.trim_start_matches("https://").to_owned();
    let (a, b) = (ca_a.client(), ca_b.client());

    // Over TLS: health, readiness (a database round trip) and an authenticated read.
    assert_eq!(status(&a, &format!("{base}/healthz"), None).await, Ok(200));
    assert_eq!(status(&a, &format!("{base}/readyz"), None).await, Ok(200));
    let bookings = format!("{base}/v1/bookings");
    assert_eq!(status(&a, &bookings, Some(&seeded.token)).await, Ok(200));
    assert!(
        status(&b, &format!("{base}/healthz"), None).await.is_err(),
        "a client trusting another CA refuses the certificate"
    );

    // No plain-HTTP listener: a plain request to the port gets no HTTP answer.
    let plain = reqwest::Client::builder()
        .no_proxy()
        .timeout(BOUND)
        .build()
        .unwrap();
    let r = plain.get(format!("http://{addr}/healthz")).send().await;
    assert!(r.is_err(), "plain HTTP must not be served: {r:?}");

    // A TCP client that never sends a ClientHello is closed within the header-read timeout.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(BOUND, silent.read(&mut buf)).await;
    let waited = started.elapsed();
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the silent socket is closed: {read:?}"
    );
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(6),
        "closed after {waited:?}, the handshake timeout is 2 s"
    );

    // A broken certificate file: the reload fails, the old certificate stays.
    std::fs::write(
        &f.cert,
        "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    sighup(&server);
    let metrics = format!("{base}/metrics");
    eventually("the failed reload shows in /metrics", || {
        let (a, metrics) = (&a, &metrics);
        async move {
            match a.get(metrics).send().await {
                Ok(r) => r
                    .text()
                    .await
                    .is_ok_and(|t| t.contains("slotbook_tls_reloads_total{result=\"error\"} 1")),
                Err(_) => false,
            }
        }
    })
    .await;
    assert_eq!(
        status(&a, &format!("{base}/healthz"), None).await,
        Ok(200),
        "the old certificate is still served after a failed reload"
    );

    // A new pair from the other CA: new connections see it.
    f.write(&ca_b.leaf());
    sighup(&server);
    eventually("a new connection sees the new certificate", || {
        let (b, base) = (&b, &base);
        async move { status(b, &format!("{base}/healthz"), None).await == Ok(200) }
    })
    .await;
    assert_eq!(status(&b, &bookings, Some(&seeded.token)).await, Ok(200));
    assert!(
        status(&a, &format!("{base}/healthz"), None).await.is_err(),
        "the old certificate is no longer offered"
    );
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_only_and_reloads_on_sighup_sqlite() {
    webhooks::install_crypto_provider();
    let dir = TempDir::new();
    serves_https_only_and_reloads_on_sighup(&dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_only_and_reloads_on_sighup_postgres() {
    webhooks::install_crypto_provider();
    let url = match store_postgres::testing::fresh_database().await {
        Ok((_, url)) => url,
        Err(e) if store_postgres::testing::skip_allowed() => {
            eprintln!("!!! SKIPPING a Postgres test (SLOTBOOK_SKIP_POSTGRES=1): {e:#}");
            return;
        }
        Err(e) => panic!("{e:#}"),
    };
    serves_https_only_and_reloads_on_sighup(&url).await;
}

/// `slotbook serve` with `files`; returns its standard error (it must fail).
fn failing_start(dir: &TempDir, f: &Files) -> String {
    let mut cmd = slotbook(dir);
    cmd.env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:0")
        .env("SLOTBOOK__DATABASE__URL", dir.sqlite_url())
        .env("SLOTBOOK__HTTP__TLS__CERT_PATH", &f.cert)
        .env("SLOTBOOK__HTTP__TLS__KEY_PATH", &f.key)
        .arg("serve");
    let out = run(cmd, None);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the start-up must fail: {stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening on"),
        "nothing is served"
    );
    stderr
}

#[test]
fn tls_config_errors_stop_the_start_up_with_a_clear_message() {
    let dir = TempDir::new();
    let f = files(&dir);
    // Missing files.
    let err = failing_start(&dir, &f);
    assert!(
        err.contains("http.tls.cert_path") && err.contains("cert.pem"),
        "{err}"
    );
    // A certificate file that is not PEM.
    let ca = Ca::new("Test CA");
    f.write(&ca.leaf());
    std::fs::write(&f.cert, "hello").unwrap();
    let err = failing_start(&dir, &f);
    assert!(
        err.contains("http.tls.cert_path") && err.contains("no `-----BEGIN CERTIFICATE-----`"),
        "{err}"
    );
    // A key file without a key.
    f.write(&ca.leaf());
    std::fs::write(&f.key, "hello").unwrap();
    let err = failing_start(&dir, &f);
    assert!(
        err.contains("http.tls.key_path") && err.contains("key.pem"),
        "{err}"
    );
}
