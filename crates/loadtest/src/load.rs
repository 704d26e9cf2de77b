//! The closed-loop load generator: `connections` keep-alive HTTP/1.1 connections (hyper's
//! low-level client, one TCP connection each, `TCP_NODELAY`), each sending its next request as
//! soon as the previous response body has been read, until the deadline passes or the shared
//! request cap is used up. Latency is measured per request, from sending the request to having
//! read the whole response body, in microseconds, into an HDR histogram per connection; the
//! histograms are merged at the end.
//!
//! Bounded by construction: every loop checks the deadline and the cap, every request has a
//! timeout, and a connection gives up after [`MAX_CONNECTION_FAILURES`] failed attempts.

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long one request may take beyond the scenario's deadline before it counts as failed.
pub const REQUEST_GRACE: Duration = Duration::from_secs(10);
/// Connection attempts (connect, handshake or a broken keep-alive connection) after which a
/// connection task stops.
pub const MAX_CONNECTION_FAILURES: u64 = 100;
/// Highest latency the histograms track (longer ones are clamped): one minute.
pub const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// Walks booking starts forward: request `n` books `first_start + n × step`.
#[derive(Debug)]
pub struct BookingWalk {
    pub event_type_id: String,
    pub first_start: Timestamp,
    pub step: SignedDuration,
    /// Makes idempotency keys unique across runs.
    pub run_id: String,
    next: AtomicU64,
}

impl BookingWalk {
    pub fn new(
        event_type_id: String,
        first_start: Timestamp,
        step: SignedDuration,
        run_id: String,
    ) -> Self {
        Self {
            event_type_id,
            first_start,
            step,
            run_id,
            next: AtomicU64::new(0),
        }
    }

    /// How many starts have been handed out.
    pub fn taken(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// The next start and its sequence number.
    pub fn next_start(&self) -> anyhow::Result<(u64, Timestamp)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let offset = self
            .step
            .checked_mul(i32::try_from(n).context("booking walk too long")?)
            .context("booking walk too long")?;
        Ok((n, self.first_start.checked_add(offset)?))
    }

    /// The next start, its sequence number and the request body.
    fn next_body(&self) -> anyhow::Result<(u64, Vec<u8>)> {
        let (n, start) = self.next_start()?;
        let body = serde_json::json!({
            "event_type_id": self.event_type_id,
            "start": start.to_string(),
            "attendee": {
                "email": format!("load{n}@example.com"),
                "name": format!("Load Test {n}"),
                "timezone": "Europe/Berlin",
            },
            "metadata": { "loadtest": true },
        });
        Ok((n, serde_json::to_vec(&body)?))
    }
}

/// What a scenario sends.
#[derive(Debug)]
pub enum Target {
    /// `GET` of a fixed path and query.
    Get { path: String },
    /// `POST /v1/bookings`, each request the next start of a [`BookingWalk`] with its own
    /// `Idempotency-Key`.
    Bookings(BookingWalk),
    /// `POST` of a fixed JSON body (set-up requests such as creating a webhook subscription).
    PostJson { path: String, body: Vec<u8> },
}

/// One benchmark scenario.
#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub addr: SocketAddr,
    /// `Authorization: Bearer …` value, if any.
    pub bearer: Option<String>,
    pub target: Target,
}

impl Scenario {
    /// Builds the next request.
    pub fn request(&self) -> anyhow::Result<Request<Full<Bytes>>> {
        let host = HeaderValue::from_str(&self.addr.to_string())?;
        let mut builder = Request::builder().header(HOST, host);
        if let Some(token) = &self.bearer {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match &self.target {
            Target::Get { path } => builder
                .method(Method::GET)
                .uri(path.as_str())
                .body(Full::new(Bytes::new()))?,
            Target::Bookings(walk) => {
                let (n, body) = walk.next_body()?;
                builder
                    .method(Method::POST)
                    .uri("/v1/bookings")
                    .header(CONTENT_TYPE, "application/json")
                    .header("idempotency-key", format!("lt-{}-{n}", walk.run_id))
                    .body(Full::new(Bytes::from(body)))?
            }
            Target::PostJson { path, body } => builder
                .method(Method::POST)
                .uri(path.as_str())
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body.clone())))?,
        };
        Ok(req)
    }
}

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    pub connections: usize,
    pub duration: Duration,
    /// Hard cap on requests sent in this scenario, over all connections.
    pub max_requests: u64,
}

/// The measurements of one scenario.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// Completed requests (a whole response read), whatever their status.
    pub requests: u64,
    pub elapsed: Duration,
    /// Latency in microseconds.
    pub histogram: Histogram<u64>,
    /// Responses per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Connect failures, broken connections and timed-out requests.
    pub errors: u64,
    /// Highest resident memory of the sampled process during the scenario, KiB.
    pub peak_rss_kib: Option<u64>,
}

impl Outcome {
    /// Completed requests per second.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency at `quantile` in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Responses with `status`.
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

pub(crate) fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3).context("creating a latency histogram")
}

/// What one connection task (or in-process worker, [`crate::in_process`]) saw.
pub(crate) struct ConnStats {
    pub(crate) histogram: Histogram<u64>,
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
}

impl Outcome {
    /// The outcome named `name` of the tasks' stats, timed from `started`.
    pub(crate) async fn collect(
        name: String,
        tasks: Vec<tokio::task::JoinHandle<anyhow::Result<ConnStats>>>,
        started: Instant,
    ) -> anyhow::Result<Self> {
        let mut outcome = Outcome {
            name,
            requests: 0,
            elapsed: Duration::ZERO,
            histogram: new_histogram()?,
            statuses: BTreeMap::new(),
            errors: 0,
            peak_rss_kib: None,
        };
        for task in tasks {
            let stats = task.await.context("a connection task failed")??;
            outcome.requests += stats.requests;
            outcome.errors += stats.errors;
            outcome
                .histogram
                .add(&stats.histogram)
                .context("merging histograms")?;
            for (status, n) in stats.statuses {
                *outcome.statuses.entry(status).or_default() += n;
            }
        }
        outcome.elapsed = started.elapsed();
        Ok(outcome)
    }
}

/// Sends one request on a fresh connection and returns the status and body (for checks
/// before the load).
pub async fn probe(scenario: &Scenario) -> anyhow::Result<(u16, Bytes)> {
    let req = scenario.request()?;
    let once = async {
        let stream = TcpStream::connect(scenario.addr).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        let driver = tokio::spawn(conn);
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        driver.abort();
        anyhow::Ok((status, body))
    };
    match tokio::time::timeout(REQUEST_GRACE, once).await {
        Ok(result) => result.with_context(|| format!("probing {}", scenario.name)),
        Err(_) => bail!(
            "probing {}: no answer within {REQUEST_GRACE:?}",
            scenario.name
        ),
    }
}

/// Runs `scenario` under `config`; samples the resident memory of `rss_pid` every 50 ms
/// meanwhile, if given.
pub async fn run(
    scenario: Arc<Scenario>,
    config: LoadConfig,
    rss_pid: Option<u32>,
) -> anyhow::Result<Outcome> {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + config.duration;

    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = rss_pid.map(|pid| {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak: Option<u64> = None;
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = crate::children::rss_kib(pid) {
                    peak = Some(peak.map_or(kib, |p| p.max(kib)));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    });

    let tasks: Vec<_> = (0..config.connections.max(1))
        .map(|_| {
            tokio::spawn(connection(
                scenario.clone(),
                deadline,
                issued.clone(),
                config.max_requests,
            ))
        })
        .collect();
    let mut outcome = Outcome::collect(scenario.name.clone(), tasks, started).await?;
    sampling.store(false, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        outcome.peak_rss_kib = sampler.await.ok().flatten();
    }
    Ok(outcome)
}

/// One connection's closed loop; reconnects after a broken connection.
async fn connection(
    scenario: Arc<Scenario>,
    deadline: Instant,
    issued: Arc<AtomicU64>,
    max_requests: u64,
) -> anyhow::Result<ConnStats> {
    let mut stats = ConnStats {
        histogram: new_histogram()?,
        statuses: BTreeMap::new(),
        requests: 0,
        errors: 0,
    };
    let mut failures = 0_u64;
    while Instant::now() < deadline && failures < MAX_CONNECTION_FAILURES {
        let sender = match connect(scenario.addr, deadline).await {
            Ok(sender) => sender,
            Err(_) => {
                stats.errors += 1;
                failures += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        match send_loop(
            &scenario,
            sender,
            deadline,
            &issued,
            max_requests,
            &mut stats,
        )
        .await?
        {
            LoopEnd::Done => break,
            LoopEnd::Broken => {
                stats.errors += 1;
                failures += 1;
            }
        }
    }
    Ok(stats)
}

enum LoopEnd {
    /// Deadline passed or the cap is used up.
    Done,
    /// The connection failed; reconnect.
    Broken,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr, deadline: Instant) -> anyhow::Result<Sender> {
    let handshake = async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection future ends when the sender is dropped or the peer closes.
        tokio::spawn(conn);
        anyhow::Ok(sender)
    };
    tokio::time::timeout_at(deadline + REQUEST_GRACE, handshake)
        .await
        .context("connect timed out")?
}

async fn send_loop(
    scenario: &Scenario,
    mut sender: Sender,
    deadline: Instant,
    issued: &AtomicU64,
    max_requests: u64,
    stats: &mut ConnStats,
) -> anyhow::Result<LoopEnd> {
    loop {
        if Instant::now() >= deadline || issued.fetch_add(1, Ordering::Relaxed) >= max_requests {
            return Ok(LoopEnd::Done);
        }
        let req = scenario.request()?;
        let started = Instant::now();
        let exchange = async {
            sender.ready().await?;
            let resp = sender.send_request(req).await?;
            let status = resp.status().as_u16();
            resp.into_body().collect().await?;
            anyhow::Ok(status)
        };
        match tokio::time::timeout_at(deadline + REQUEST_GRACE, exchange).await {
            Ok(Ok(status)) => {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                stats
                    .histogram
                    .saturating_record(micros.clamp(1, MAX_LATENCY_MICROS));
                *stats.statuses.entry(status).or_default() += 1;
                stats.requests += 1;
            }
            Ok(Err(_)) | Err(_) => return Ok(LoopEnd::Broken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_walk_hands_out_distinct_starts_and_keys() {
        let first: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let scenario = Scenario {
            name: "bookings".into(),
            addr: "127.0.0.1:9".parse().unwrap(),
            bearer: Some("t".into()),
            target: Target::Bookings(BookingWalk::new(
                "et".into(),
                first,
                SignedDuration::from_mins(5),
                "run".into(),
            )),
        };
        let a = scenario.request().unwrap();
        let b = scenario.request().unwrap();
        assert_eq!(a.headers()["idempotency-key"], "lt-run-0");
        assert_eq!(b.headers()["idempotency-key"], "lt-run-1");
        assert_eq!(a.headers()[AUTHORIZATION], "Bearer t");
        assert_eq!(a.uri(), "/v1/bookings");
        let Target::Bookings(walk) = &scenario.target else {
            unreachable!()
        };
        assert_eq!(walk.taken(), 2);
        let (_, body) = walk.next_body().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["start"], "2030-01-01T00:10:00Z");
    }
}
