//! The HTTP listener: the application served through hyper's HTTP/1.1 connection with a timer,
//! under the limits of `[http]` ([`ConnLimits`]):
//!
//! - *header-read timeout* (hyper's timer): a request head must be complete within
//!   `header_read_timeout_secs` of the wait for it starting — the connection's accept, or the
//!   end of the previous response on a keep-alive connection. A slowloris socket is closed then.
//! - *keep-alive idle timeout*: a connection that has no request in flight and has sent no byte
//!   for `keep_alive_idle_secs` since its accept or its last response is closed (it cannot be
//!   longer than the header-read timeout, which times the same wait).
//! - *header limits*: more than `max_headers` header fields or a head over `max_header_bytes`
//!   is answered `431 Request Header Fields Too Large` by hyper and the connection closed.
//! - *connection cap*: at most `max_connections` open connections, kept below the file
//!   descriptor limit ([`raise_nofile_limit`] raises the soft limit to the hard one at start).
//!   A connection accepted at the cap evicts the oldest connection without a request in flight
//!   (a silent or slow socket), so clients that send requests keep being served while idle
//!   sockets pile up. The listen backlog ([`bind`]) is `max_connections` too (the kernel caps it
//!   at `net.core.somaxconn`): with tokio's default of 1,024, a burst of connects larger than
//!   that completed the client's handshake but overflowed the accept queue, leaving sockets the
//!   client thinks open and the server never accepted, so no timeout could close them.
//! - *load shedding*: at most `max_in_flight_requests` requests are handled at once; the next
//!   one is answered `503 service_unavailable` with `Retry-After` without touching the
//!   application.
//! - *drain*: on the shutdown signal the state is marked draining (`/readyz` answers 503)
//!   while connections keep being accepted and served for `shutdown_grace_secs` (so a load
//!   balancer sees the 503 and stops sending); then the listener closes, every connection is
//!   shut down gracefully (in-flight requests finish, idle connections close) and the server
//!   waits for them at most `drain_timeout`.
//!
//! - *TLS* (`[http.tls]`, [`crate::tls`]): with an acceptor, every accepted socket must
//!   complete its TLS handshake within `header_read_timeout_secs` (a silent or slow TLS client
//!   is closed then, and it counts against the connection cap and can be evicted like any
//!   idle socket); the limits above then apply to the decrypted HTTP/1.1 exactly as on a plain
//!   listener, with the idle and header-read waits starting at the end of the handshake.
//!   There is no plain listener beside it.
//!
//! HTTP/2 is not offered (ALPN announces `http/1.1` only): the limits above are HTTP/1.1's.

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt as _;

/// The connection limits (`[http]`).
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub header_read_timeout: Duration,
    pub keep_alive_idle: Duration,
    pub max_headers: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub max_in_flight_requests: usize,
    /// How long `/readyz` answers 503 while the server keeps serving, after the signal.
    pub shutdown_grace: Duration,
    /// How long in-flight requests may take to finish after the grace period.
    pub drain_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_idle: Duration::from_secs(5),
            max_headers: 64,
            max_header_bytes: 16 * 1024,
            max_connections: 4096,
            max_in_flight_requests: 1024,
            shutdown_grace: Duration::ZERO,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in force
/// (`None` when it is unlimited or cannot be read).
#[cfg(unix)]
pub fn raise_nofile_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::info!(from = ?limit.current, to = ?limit.maximum, "raised the open file limit");
            }
            Err(e) => tracing::warn!(error = %e, "could not raise the open file limit"),
        }
    }
    getrlimit(Resource::Nofile).current
}

#[cfg(not(unix))]
pub fn raise_nofile_limit() -> Option<u64> {
    None
}

/// File descriptors kept for everything but client connections (database pools, files,
/// outgoing webhook and SMTP connections).
pub const RESERVED_FDS: u64 = 256;

/// Binds `addr` with SO_REUSEADDR (as `TcpListener::bind` does) and a listen backlog of
/// `backlog` (capped at `u32::MAX`; the kernel caps it at `net.core.somaxconn`).
pub fn bind(addr: SocketAddr, backlog: usize) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(backlog).unwrap_or(u32::MAX))
}

/// The connection cap in force: the configured one, lowered to stay [`RESERVED_FDS`] below
/// the soft descriptor limit `nofile`.
pub fn effective_max_connections(configured: usize, nofile: Option<u64>) -> usize {
    match nofile {
        Some(n) => {
            let room = usize::try_from(n.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
            configured.min(room.max(1))
        }
        None => configured,
    }
}

/// One open connection's bookkeeping. Per request it costs a few uncontended atomic
/// operations and one clock read — no lock, no allocation, no timer and no wake-up of the
/// connection's task (which re-arms its one idle timer lazily, see [`connection`]).
struct Conn {
    /// The key in [`Shared::conns`] (accept order).
    id: u64,
    /// Requests of this connection being handled.
    in_flight: AtomicUsize,
    /// Bytes read from the socket so far.
    read: AtomicU64,
    /// `read` when the last response was done (or 0 at the accept).
    read_at_done: AtomicU64,
    /// When the last response was done (or the accept), in milliseconds since [`Shared::epoch`].
    done_at_ms: AtomicU64,
    /// Asked to close (evicted at the cap): closes if no request is in flight.
    evict: Notify,
    /// Already chosen for eviction (it leaves the map when its task ends).
    evicted: AtomicBool,
}

/// Shared by the accept loop and every connection.
struct Shared {
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
    in_flight: AtomicUsize,
    /// Connections chosen for eviction that have not closed yet.
    evicting: AtomicUsize,
    limits: ConnLimits,
    /// The origin of [`Conn::done_at_ms`].
    epoch: Instant,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        match self.conns.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Asks the oldest connection without a request in flight to close; false if none.
    fn evict_one(&self) -> bool {
        let conns = self.lock();
        for c in conns.values() {
            if c.in_flight.load(Ordering::SeqCst) == 0 && !c.evicted.swap(true, Ordering::SeqCst) {
                self.evicting.fetch_add(1, Ordering::SeqCst);
                c.evict.notify_one();
                return true;
            }
        }
        false
    }

    /// Milliseconds since [`Self::epoch`].
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Open connections not already chosen for eviction.
    fn open(&self) -> usize {
        self.lock()
            .len()
            .saturating_sub(self.evicting.load(Ordering::SeqCst))
    }
}

/// A socket that counts the bytes read from it.
struct Counted {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.conn.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// What every request of one connection needs (one `Arc` clone per request).
struct ConnCtx {
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    app: Router,
    peer: SocketAddr,
}

/// Counts a request in flight (globally and on its connection) until dropped; the drop marks
/// the connection active (its idle time starts again).
struct InFlight<'a>(&'a ConnCtx);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let ConnCtx { shared, conn, .. } = self.0;
        conn.read_at_done
            .store(conn.read.load(Ordering::Relaxed), Ordering::Relaxed);
        conn.done_at_ms.store(shared.now_ms(), Ordering::Relaxed);
        conn.in_flight.fetch_sub(1, Ordering::SeqCst);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `503 service_unavailable` with `Retry-After: 1`: the server is at its request limit.
fn overloaded() -> axum::response::Response {
    http_api::ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "The server is at capacity; retry shortly",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    .into_response()
}

/// Serves `app` on `listener` until `shutdown` completes; then `draining` is set and the drain
/// described in the module documentation runs. With `tls`, every connection is TLS.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: ConnLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    draining: Arc<AtomicBool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let shared = Arc::new(Shared {
        conns: Mutex::new(BTreeMap::new()),
        in_flight: AtomicUsize::new(0),
        evicting: AtomicUsize::new(0),
        limits: limits.clone(),
        epoch: Instant::now(),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let http = Arc::new(http);
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;

    let grace = limits.shutdown_grace;
    let stop_accepting = async move {
        shutdown.await;
        draining.store(true, Ordering::SeqCst);
        tracing::info!(
            ?grace,
            "shutdown signal received; /readyz answers 503, still serving for the grace period"
        );
        tokio::time::sleep(grace).await;
    };
    tokio::pin!(stop_accepting);
    loop {
        tokio::select! {
            () = &mut stop_accepting => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    next_id += 1;
                    let open = shared.open();
                    if open >= shared.limits.max_connections && !shared.evict_one() {
                        // Every connection has a request in flight: refuse this one.
                        metrics::counter!("slotbook_http_connections_refused_total").increment(1);
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    // Registered before the task runs, so the next accept already counts it.
                    let conn = Arc::new(Conn {
                        id: next_id,
                        in_flight: AtomicUsize::new(0),
                        read: AtomicU64::new(0),
                        read_at_done: AtomicU64::new(0),
                        done_at_ms: AtomicU64::new(shared.now_ms()),
                        evict: Notify::new(),
                        evicted: AtomicBool::new(false),
                    });
                    shared.lock().insert(next_id, conn.clone());
                    tasks.spawn(connection(
                        conn,
                        stream,
                        tls.clone(),
                        peer,
                        app.clone(),
                        http.clone(),
                        shared.clone(),
                        closing_rx.clone(),
                    ));
                }
                Err(e) => {
                    // EMFILE / ENFILE and the like: make room and back off briefly rather
                    // than spin on the error.
                    tracing::warn!(error = %e, "accept failed");
                    shared.evict_one();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
    // Connections learn of the drain before the listener closes: a client that sees the
    // listener gone and then finishes its request gets `Connection: close` on the answer.
    let _ = closing_tx.send(true);
    drop(listener);
    tracing::info!(
        connections = tasks.len(),
        "no longer accepting; draining in-flight requests"
    );
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = tasks.len(),
            timeout = ?limits.drain_timeout,
            "drain timeout passed; closing the remaining connections"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

/// One connection: hyper's HTTP/1.1 over the counted socket, closed when idle past the
/// keep-alive timeout, when evicted without a request in flight, or gracefully at shutdown.
///
/// The idle timeout is one timer per connection, re-armed lazily: requests only record when
/// their response was done ([`InFlight`]); when the timer fires, the connection closes if it is
/// idle (no request in flight, no byte read since the last response, `keep_alive_idle` passed
/// since it), else the timer is set again — to the last response plus `keep_alive_idle`, or,
/// while a request is being read or handled (hyper's header-read timer owns a slow head), to
/// one more `keep_alive_idle` from now.
#[allow(
    clippy::too_many_arguments,
    reason = "one connection task's inputs, passed once at spawn"
)]
async fn connection(
    conn: Arc<Conn>,
    stream: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    peer: SocketAddr,
    app: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    shared: Arc<Shared>,
    closing: watch::Receiver<bool>,
) {
    metrics::gauge!("slotbook_http_connections_open").increment(1.0);
    let counted = Counted {
        inner: stream,
        conn: conn.clone(),
    };
    match tls {
        None => serve_http(&conn, counted, peer, app, &http, &shared, closing).await,
        Some(acceptor) => {
            if let Some(stream) =
                handshake(&conn, counted, &acceptor, &shared, closing.clone()).await
            {
                // The idle and header-read waits start after the handshake.
                conn.read_at_done
                    .store(conn.read.load(Ordering::Relaxed), Ordering::Relaxed);
                conn.done_at_ms.store(shared.now_ms(), Ordering::Relaxed);
                serve_http(&conn, stream, peer, app, &http, &shared, closing).await;
            }
        }
    }
    shared.lock().remove(&conn.id);
    if conn.evicted.load(Ordering::SeqCst) {
        shared.evicting.fetch_sub(1, Ordering::SeqCst);
    }
    metrics::gauge!("slotbook_http_connections_open").decrement(1.0);
}

/// The TLS handshake of one connection, within the header-read timeout; `None` (the socket is
/// dropped) when it fails, times out, the connection is evicted or the server shuts down.
async fn handshake(
    conn: &Conn,
    counted: Counted,
    acceptor: &tokio_rustls::TlsAcceptor,
    shared: &Shared,
    mut closing: watch::Receiver<bool>,
) -> Option<tokio_rustls::server::TlsStream<Counted>> {
    if *closing.borrow() {
        return None;
    }
    let accept = tokio::time::timeout(shared.limits.header_read_timeout, acceptor.accept(counted));
    tokio::select! {
        r = accept => match r {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                metrics::counter!("slotbook_tls_handshake_failures_total").increment(1);
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                metrics::counter!("slotbook_tls_handshake_timeouts_total").increment(1);
                None
            }
        },
        () = conn.evict.notified() => {
            metrics::counter!("slotbook_http_connections_evicted_total").increment(1);
            None
        }
        _ = closing.changed() => None,
    }
}

/// hyper's HTTP/1.1 over `io` (the counted socket, or TLS over it) with the idle timer, the
/// eviction and the graceful shutdown described at [`connection`].
async fn serve_http<I>(
    conn: &Arc<Conn>,
    io: I,
    peer: SocketAddr,
    app: Router,
    http: &hyper::server::conn::http1::Builder,
    shared: &Arc<Shared>,
    mut closing: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ctx = Arc::new(ConnCtx {
        shared: shared.clone(),
        conn: conn.clone(),
        app,
        peer,
    });
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let ctx = ctx.clone();
        async move {
            let now = ctx.shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            ctx.conn.in_flight.fetch_add(1, Ordering::SeqCst);
            let guard = InFlight(&ctx);
            if now > ctx.shared.limits.max_in_flight_requests {
                metrics::counter!("slotbook_http_requests_shed_total").increment(1);
                drop(guard);
                return Ok::<_, std::convert::Infallible>(overloaded());
            }
            req.extensions_mut().insert(ConnectInfo(ctx.peer));
            let resp = ctx
                .app
                .clone()
                .oneshot(req.map(axum::body::Body::new))
                .await;
            drop(guard);
            resp
        }
    });
    let io = TokioIo::new(io);
    let served = http.serve_connection(io, service);
    tokio::pin!(served);
    let idle = shared.limits.keep_alive_idle;
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    let mut shutting_down = *closing.borrow();
    if shutting_down {
        served.as_mut().graceful_shutdown();
    }
    let timer = tokio::time::sleep(idle);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            // The drain first: once it is signalled, the response being read or handled is
            // already the connection's last (hyper adds `Connection: close`).
            biased;
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                served.as_mut().graceful_shutdown();
            }
            r = served.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                break;
            }
            () = conn.evict.notified() => {
                if conn.in_flight.load(Ordering::SeqCst) == 0 {
                    metrics::counter!("slotbook_http_connections_evicted_total").increment(1);
                    break;
                }
                // A request started meanwhile: it stays, and may be chosen again.
                if conn.evicted.swap(false, Ordering::SeqCst) {
                    shared.evicting.fetch_sub(1, Ordering::SeqCst);
                }
            }
            () = timer.as_mut() => {
                let now = shared.now_ms();
                let quiet = conn.in_flight.load(Ordering::SeqCst) == 0
                    && conn.read.load(Ordering::Relaxed)
                        == conn.read_at_done.load(Ordering::Relaxed);
                let due = conn.done_at_ms.load(Ordering::Relaxed).saturating_add(idle_ms);
                if quiet && now >= due {
                    break;
                }
                let wait = if quiet { due - now } else { idle_ms };
                timer
                    .as_mut()
                    .reset(Instant::now() + Duration::from_millis(wait.max(1)));
            }
        }
    }
}
