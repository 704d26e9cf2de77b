//! [`Receiver`]: a webhook receiver on loopback (hyper, port 0) that records every request
//! and answers with a settable status (optionally a redirect). Tests verify signatures on what
//! it recorded; it never verifies anything itself.

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    arrived: tokio::sync::Notify,
    status: AtomicU16,
    location: Mutex<Option<String>>,
    /// While set, requests are recorded and then left unanswered until released.
    holding: AtomicBool,
    released: tokio::sync::Notify,
}

/// A running receiver; stops when dropped with the runtime.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
}

impl Receiver {
    /// Starts a receiver answering 200.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let state = Arc::new(State::default());
        state.status.store(200, Ordering::SeqCst);
        let s = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let s = s.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| {
                                    (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes().to_vec())
                                .unwrap_or_default();
                            s.received.lock().expect("lock").push(Received {
                                path,
                                headers,
                                body,
                            });
                            s.arrived.notify_waiters();
                            loop {
                                let released = s.released.notified();
                                tokio::pin!(released);
                                released.as_mut().enable();
                                if !s.holding.load(Ordering::SeqCst) {
                                    break;
                                }
                                released.await;
                            }
                            let mut resp = Response::new(Full::new(Bytes::from_static(b"ok")));
                            *resp.status_mut() =
                                hyper::StatusCode::from_u16(s.status.load(Ordering::SeqCst))
                                    .unwrap_or(hyper::StatusCode::OK);
                            if let Some(loc) = s.location.lock().expect("lock").clone() {
                                resp.headers_mut().insert(
                                    hyper::header::LOCATION,
                                    loc.parse().expect("location header"),
                                );
                            }
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// A URL on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Answers every later request with `status`.
    pub fn respond_with(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// Answers every later request with `302 Location: location`.
    pub fn redirect_to(&self, location: &str) {
        *self.state.location.lock().expect("lock") = Some(location.to_owned());
        self.respond_with(302);
    }

    /// Records later requests but leaves them unanswered (the sender's attempt stays in
    /// flight) until [`Receiver::release`].
    pub fn hold(&self) {
        self.state.holding.store(true, Ordering::SeqCst);
    }

    /// Answers the held requests and every later one again.
    pub fn release(&self) {
        self.state.holding.store(false, Ordering::SeqCst);
        self.state.released.notify_waiters();
    }

    /// Waits until at least `n` requests have arrived (woken by each arrival, not polling);
    /// panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: std::time::Duration) -> Vec<Received> {
        let wait = async {
            loop {
                let arrived = self.state.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                if self.received().len() >= n {
                    return self.received();
                }
                arrived.await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .unwrap_or_else(|_| panic!("{n} webhook requests did not arrive within {limit:?}"))
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }
}
