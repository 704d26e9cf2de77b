//! Connection limits of the real `slotbook serve` (issue 17, item 1; `crate::http_server`):
//! idle and slowloris sockets are closed within their timeouts, an oversized head gets `431`,
//! requests keep succeeding while many silent sockets are open (the cap evicts the oldest
//! socket without a request), and requests beyond the in-flight limit are shed with `503` and
//! `Retry-After`. Raw sockets on 127.0.0.1; every wait is on a socket event or a response,
//! with a bound.

use crate::support::{BOUND, Server, TempDir, client};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn start(dir: &TempDir, env: &[(&str, &str)]) -> Server {
    Server::start_with(dir, &dir.sqlite_url(), &[], env)
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the socket (EOF or reset), at most `bound`; returns how long
/// that took and what was read.
async fn wait_closed(stream: &mut TcpStream, bound: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + bound),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => panic!(
                "the server did not close the socket within {bound:?} (read {} bytes)",
                got.len()
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return (started.elapsed(), got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// One request on a fresh socket; the whole answer (the request asks to close). The request
/// is written while the answer is read: the server may answer (431) before reading it all.
async fn raw(addr: &str, request: &[u8]) -> String {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = s.into_split();
    let request = request.to_vec();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&request).await;
        write
    });
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + BOUND),
            read.read(&mut buf),
        )
        .await
        {
            Err(_) => panic!("no complete answer within {BOUND:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    drop(writer.await);
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slowloris_sockets_are_closed_within_their_timeouts() {
    let dir = TempDir::new();
    let server = start(
        &dir,
        &[
            ("SLOTBOOK__HTTP__KEEP_ALIVE_IDLE_SECS", "1"),
            ("SLOTBOOK__HTTP__HEADER_READ_TIMEOUT_SECS", "3"),
        ],
    );
    let addr = addr(&server);

    // Silent from the start: closed after the idle timeout (1 s).
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    // A head trickling in, one byte every 100 ms, never complete: the header-read timer (3 s)
    // closes it (bytes keep arriving, so the idle timer does not).
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let (mut slow_read, mut slow_write) = slow.split();
    let trickle = async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            .iter()
            .chain(b"X-Slow: ".iter());
        for b in head.chain(std::iter::repeat(&b'a')) {
            if slow_write.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let slow_closed = async {
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_secs(15), slow_read.read(&mut buf)).await {
            Err(_) => panic!("the slowloris socket was not closed within 15 s"),
            Ok(Ok(0)) | Ok(Err(_)) => started.elapsed(),
            Ok(Ok(_)) => panic!("the server answered an incomplete head"),
        }
    };
    let idle_closed = wait_closed(&mut idle, Duration::from_secs(10));
    let (slow_after, (idle_after, idle_got)) = tokio::select! {
        () = trickle => panic!("the trickle never ends by itself"),
        r = async { tokio::join!(slow_closed, idle_closed) } => r,
    };
    assert!(idle_got.is_empty(), "nothing is written to an idle socket");
    assert!(
        idle_after >= Duration::from_millis(800) && idle_after < Duration::from_secs(10),
        "idle socket closed after {idle_after:?} (timeout 1 s)"
    );
    assert!(
        slow_after >= Duration::from_millis(2500) && slow_after < Duration::from_secs(15),
        "slowloris socket closed after {slow_after:?} (header-read timeout 3 s)"
    );

    // A keep-alive connection that goes quiet after a response is closed too.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (after, got) = wait_closed(&mut kept, Duration::from_secs(10)).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(after < Duration::from_secs(10), "{after:?}");
    assert_eq!(server.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_get_431() {
    let dir = TempDir::new();
    let server = start(
        &dir,
        &[
            ("SLOTBOOK__HTTP__MAX_HEADER_BYTES", "8192"),
            ("SLOTBOOK__HTTP__MAX_HEADERS", "32"),
        ],
    );
    let addr = addr(&server);
    let ok = raw(
        &addr,
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fine: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(4000)
        )
        .as_bytes(),
    )
    .await;
    assert!(
        ok.starts_with("HTTP/1.1 200"),
        "a 4 KB header is fine: {ok}"
    );

    for (what, value) in [("10 KB", 10 * 1024), ("400 KB", 400 * 1024)] {
        let got = raw(
            &addr,
            format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
                "a".repeat(value)
            )
            .as_bytes(),
        )
        .await;
        assert!(got.starts_with("HTTP/1.1 431"), "{what} header: {got}");
    }
    let many: String = (0..40).map(|i| format!("X-H{i}: v\r\n")).collect();
    let got = raw(
        &addr,
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 431"), "40 headers: {got}");
    assert_eq!(server.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_keep_succeeding_while_many_silent_sockets_are_open() {
    const CAP: usize = 40;
    const SILENT: usize = 200;
    let dir = TempDir::new();
    let cap = CAP.to_string();
    let server = start(
        &dir,
        &[
            ("SLOTBOOK__HTTP__MAX_CONNECTIONS", cap.as_str()),
            // Long timeouts: only the cap can make room here.
            ("SLOTBOOK__HTTP__KEEP_ALIVE_IDLE_SECS", "120"),
            ("SLOTBOOK__HTTP__HEADER_READ_TIMEOUT_SECS", "120"),
        ],
    );
    let addr = addr(&server);
    let mut silent = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Fresh connections for every request (a pooled idle one may be evicted, as it should).
    let http = crate::support::unpooled_client();
    crate::serve::wait_healthy(&client(), &server.base).await;
    for i in 0..30 {
        let r = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} failed beside {SILENT} silent sockets: {e}"));
        assert_eq!(r.status(), 200, "request {i}");
    }
    // The oldest silent sockets were evicted to make room; the server never held more than
    // the cap (the newest CAP - 1 may still be open).
    let mut closed = 0;
    for s in silent.iter_mut().take(SILENT - CAP) {
        let (_, got) = wait_closed(s, BOUND).await;
        assert!(got.is_empty());
        closed += 1;
    }
    assert_eq!(closed, SILENT - CAP);
    assert_eq!(server.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_limit_are_shed_with_503() {
    let dir = TempDir::new();
    let server = start(&dir, &[("SLOTBOOK__HTTP__MAX_IN_FLIGHT_REQUESTS", "1")]);
    let addr = addr(&server);
    let http = client();
    crate::serve::wait_healthy(&http, &server.base).await;

    // A request whose body is still arriving stays in flight (the handler reads the form).
    async fn slow_post(addr: &str) -> TcpStream {
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(
            b"POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\nConnection: close\r\n\r\ngrant_type=",
        )
        .await
        .unwrap();
        slow
    }
    let mut slow = slow_post(&addr).await;
    // Until the server counts it, /healthz still answers 200; then 503 (bounded). The two
    // connections race: if a /healthz was in flight when the slow request arrived, the slow one
    // is the request shed (answered at once), and it is sent again.
    let deadline = Instant::now() + BOUND;
    let mut buf = [0u8; 256];
    let shed = loop {
        let r = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            break r;
        }
        assert_eq!(r.status(), 200);
        assert!(Instant::now() < deadline, "no request was ever shed");
        match slow.try_read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(n) => {
                let got = String::from_utf8_lossy(&buf[..n]);
                assert!(n == 0 || got.starts_with("HTTP/1.1 503"), "{got}");
                slow = slow_post(&addr).await;
            }
            Err(e) => panic!("the slow request's socket failed: {e}"),
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(
        shed.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: serde_json::Value = shed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "service_unavailable", "{body}");

    // The slow request finishes normally (a 4xx for its bogus grant), then service resumes.
    slow.write_all(b"nonsense&x=yyyyyyyy").await.unwrap();
    let (_, got) = wait_closed(&mut slow, BOUND).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 4"), "{got}");
    let r = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(server.terminate().code(), Some(0));
}

/// The `http_request*` series of a `/metrics` text (names and labels, values dropped).
fn series(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| l.starts_with("http_request"))
        .filter_map(|l| l.rsplit_once(' ').map(|(k, _)| k.to_owned()))
        .collect()
}

async fn scrape(http: &reqwest::Client, base: &str) -> String {
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Issue 17 item 2: 2,000 invented methods are answered 405 and add no series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_do_not_grow_metrics() {
    let dir = TempDir::new();
    let server = start(&dir, &[]);
    let http = client();
    crate::serve::wait_healthy(&http, &server.base).await;
    let invented =
        |i: usize| reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
    // Warm-up: the one `other` series and the scrape's own series exist from here on.
    let r = http
        .request(invented(0), format!("{}/v1/bookings", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    scrape(&http, &server.base).await;
    let before = scrape(&http, &server.base).await;

    let paths = ["/v1/bookings", "/healthz", "/v1/nothing/here", "/metrics"];
    for i in 1..=2000 {
        let r = http
            .request(
                invented(i),
                format!("{}{}", server.base, paths[i % paths.len()]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "method {i}");
    }
    let after = scrape(&http, &server.base).await;
    assert_eq!(series(&before), series(&after), "no series added");
    assert!(!after.contains("INVENTED"), "no invented method is a label");
    assert!(
        after.contains(r#"method="other""#),
        "they are counted under method=\"other\""
    );
    assert!(
        after.len() < before.len() + 2048,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert_eq!(server.terminate().code(), Some(0));
}

/// A burst of connects larger than tokio's default listen backlog (1,024): every socket is
/// accepted and closed by the idle timeout. With the default backlog the accept queue
/// overflowed and the client held sockets the server never accepted, which no timeout closes
/// (`slotbook-faults`' sockets row: 386 of 1,000 idle sockets open after 30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_burst_beyond_the_default_backlog_is_accepted_and_closed() {
    const BURST: usize = 2_000;
    server::http_server::raise_nofile_limit();
    let dir = TempDir::new();
    let server = start(&dir, &[("SLOTBOOK__HTTP__KEEP_ALIVE_IDLE_SECS", "1")]);
    let addr = addr(&server);
    crate::serve::wait_healthy(&client(), &server.base).await;
    let connects: Vec<_> = (0..BURST)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move { TcpStream::connect(&addr).await })
        })
        .collect();
    let mut sockets = Vec::with_capacity(BURST);
    for c in connects {
        sockets.push(c.await.unwrap().expect("connect"));
    }
    let watches: Vec<_> = sockets
        .into_iter()
        .map(|mut s| tokio::spawn(async move { wait_closed(&mut s, BOUND).await }))
        .collect();
    let mut closed = 0;
    for w in watches {
        let (_, got) = w.await.expect("every socket is closed within the bound");
        assert!(got.is_empty());
        closed += 1;
    }
    assert_eq!(closed, BURST);
    assert_eq!(server.terminate().code(), Some(0));
}
