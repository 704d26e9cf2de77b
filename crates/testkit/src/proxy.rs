//! A loopback TCP proxy that can "take the database away": [`TcpProxy::cut`] closes every
//! proxied connection and stops listening (new connections are refused, as with a stopped
//! server), [`TcpProxy::restore`] listens on the same port again. Lets a test stop and
//! restart "Postgres" under a running `slotbook serve` without touching the shared server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// A running proxy from a fixed loopback port to `target`.
pub struct TcpProxy {
    /// The proxy's own address (give this to the client instead of the target).
    pub addr: SocketAddr,
    target: SocketAddr,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    acceptor: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

impl TcpProxy {
    /// Starts proxying a fresh loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = Self {
            addr,
            target,
            state: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let target = self.target;
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                let mut s = state.lock().unwrap();
                s.connections.retain(|t| !t.is_finished());
                s.connections.push(task);
            }
        });
        self.state.lock().unwrap().acceptor = Some(acceptor);
    }

    /// Closes every proxied connection and stops listening: the "database" is gone.
    pub fn cut(&self) {
        let mut s = self.state.lock().unwrap();
        if let Some(a) = s.acceptor.take() {
            a.abort();
        }
        for t in s.connections.drain(..) {
            t.abort();
        }
    }

    /// Listens on the same port again: the "database" is back.
    pub async fn restore(&self) {
        // The aborted acceptor drops its listener on its next poll; retry the bind briefly.
        let listener = loop {
            match listen(self.addr) {
                Ok(l) => break l,
                Err(_) => tokio::task::yield_now().await,
            }
        };
        self.serve(listener);
    }

    /// A proxy to the server of `url` (`postgres://user:password@host[:port]/db…`, port 5432
    /// when absent) and the same URL pointing at the proxy.
    pub async fn for_url(url: &str) -> (Self, String) {
        let (_, rest) = url.split_once("://").unwrap();
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        let target = tokio::net::lookup_host(host).await.unwrap().next().unwrap();
        let proxy = Self::start(target).await;
        let url = proxy.rewrite_url(url);
        (proxy, url)
    }

    /// `url` (`postgres://user:password@host:port/db…`) pointing at this proxy instead.
    pub fn rewrite_url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let userinfo = authority.rsplit_once('@').map(|(u, _)| u);
        match userinfo {
            Some(u) => format!("{scheme}://{u}@{}{path}", self.addr),
            None => format!("{scheme}://{}{path}", self.addr),
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
