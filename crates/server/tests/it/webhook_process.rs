//! Webhook delivery across real `slotbook serve` processes (§4.5, §7.7), with a receiver on
//! loopback (`[webhooks] allow_loopback_http = true`):
//!
//! - SIGKILL between a booking's commit and its delivery, on SQLite and Postgres: (a) killed
//!   before the worker fanned the event out (the worker is off in the first process); (b)
//!   killed while the first attempt is in flight (the receiver holds it). After a restart the
//!   event arrives with the same `evt_` id and, in (b), the same delivery id (`webhook-id`).
//! - Two processes on one Postgres, 200 bookings made through both: every event reaches a
//!   healthy receiver exactly once, counted at the receiver by event id and by delivery id
//!   after both processes stopped.
//!
//! Every wait is on an observable event (the receiver's arrivals, `listening on`, a process
//! exit, the deliveries API) with a bound.

use crate::support::{BOUND, Seeded, Server, TempDir, client, seed_host};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use testkit::{Received, Receiver};

const PEPPER: &str = "webhook-process-test-pepper-0123456789abcdef";
/// The shortest lease the server accepts; an attempt cut off by SIGKILL is made again after it.
const LEASE_SECS: &str = "15";

async fn seed(database_url: &str) -> Seeded {
    seed_host(database_url, PEPPER, "Webhook processes").await
}

/// Environment for a server that may deliver to the loopback receiver.
fn env(worker: bool) -> Vec<(&'static str, &'static str)> {
    vec![
        ("SLOTBOOK__SECURITY__PEPPER", PEPPER),
        ("SLOTBOOK__WEBHOOKS__ALLOW_LOOPBACK_HTTP", "true"),
        (
            "SLOTBOOK__WEBHOOKS__WORKER",
            if worker { "true" } else { "false" },
        ),
        ("SLOTBOOK__WEBHOOKS__LEASE_SECS", LEASE_SECS),
        ("SLOTBOOK__RATE_LIMIT__AUTHENTICATED_PER_MINUTE", "100000"),
    ]
}

struct Api {
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.bearer_auth(&self.token).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn subscribe(&self, base: &str, url: &str) -> String {
        let (status, body) = self
            .send(
                self.http
                    .post(format!("{base}/v1/webhooks"))
                    .json(&json!({"url": url, "events": ["booking_created"]})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Books the `n`th 5-minute slot from tomorrow 00:00 Berlin; returns the booking uid.
    async fn book(&self, base: &str, seeded: &Seeded, n: i64) -> String {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let day = Timestamp::now().to_zoned(berlin.clone()).date().tomorrow();
        let start = day
            .unwrap()
            .to_zoned(berlin)
            .unwrap()
            .timestamp()
            .checked_add(SignedDuration::from_mins(5 * n))
            .unwrap();
        let (status, body) = self
            .send(
                self.http
                    .post(format!("{base}/v1/bookings"))
                    .header("idempotency-key", format!("process-{n}"))
                    .json(&json!({
                        "event_type_id": seeded.event_type,
                        "start": start.to_string(),
                        "attendee": {"email": format!("a{n}@example.com"), "name": "A", "timezone": "Europe/Berlin"},
                    })),
            )
            .await;
        assert_eq!(status, 201, "booking {n}: {body}");
        body["data"]["uid"]
            .as_str()
            .or_else(|| body["data"]["id"].as_str())
            .unwrap()
            .to_owned()
    }

    async fn deliveries(&self, base: &str, hook: &str) -> Vec<Value> {
        let (status, body) = self
            .send(
                self.http
                    .get(format!("{base}/v1/webhooks/{hook}/deliveries")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().unwrap().clone()
    }
}

fn event_id(r: &Received) -> String {
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("evt_"), "{id}");
    id
}

fn delivery_id(r: &Received) -> String {
    let id = r.header("webhook-id").unwrap().to_owned();
    assert!(id.starts_with("dlv_"), "{id}");
    assert_eq!(r.header("x-42min-webhook-id"), Some(id.as_str()));
    id
}

async fn sigkill_between_commit_and_delivery(database_url: &str) {
    let dir = TempDir::new();
    let seeded = seed(database_url).await;
    let rx = Receiver::start().await;
    let api = Api {
        http: client(),
        token: seeded.token.clone(),
    };

    // (a) Committed, not yet fanned out: the first process runs no worker.
    let first = Server::start_with(&dir, database_url, &[], &env(false));
    let hook = api.subscribe(&first.base, &rx.url("/hook")).await;
    let uid_a = api.book(&first.base, &seeded, 0).await;
    assert!(!first.kill().success(), "SIGKILL ends the process");
    assert!(
        rx.received().is_empty(),
        "nothing was delivered before the kill"
    );

    // (b) Fanned out and the first attempt in flight: the receiver holds it, then SIGKILL.
    rx.hold();
    let second = Server::start_with(&dir, database_url, &[], &env(true));
    let held = rx.wait_for(1, BOUND).await;
    assert_eq!(held[0].json()["data"]["booking"]["id"], uid_a.as_str());
    let uid_b = api.book(&second.base, &seeded, 1).await;
    let held = rx.wait_for(2, BOUND).await;
    assert_eq!(held[1].json()["data"]["booking"]["id"], uid_b.as_str());
    assert_eq!(held[1].header("x-42min-webhook-attempt"), Some("1"));
    let (held_event, held_delivery) = (event_id(&held[1]), delivery_id(&held[1]));
    assert!(!second.kill().success());
    rx.release();

    // Restart: (a)'s attempt was cut off too, so both come again once their leases expire
    // (15 s), with the same event and delivery ids; each then succeeds.
    let third = Server::start_with(&dir, database_url, &[], &env(true));
    let all = rx.wait_for(4, BOUND + Duration::from_secs(30)).await;
    let after: Vec<&Received> = all[2..].iter().collect();
    for (before, uid) in [(&held[0], &uid_a), (&held[1], &uid_b)] {
        let again = after
            .iter()
            .find(|r| r.json()["data"]["booking"]["id"] == uid.as_str())
            .unwrap_or_else(|| panic!("booking {uid} was delivered again after the restart"));
        assert_eq!(event_id(again), event_id(before), "same evt_ id");
        assert_eq!(delivery_id(again), delivery_id(before), "same delivery id");
        assert_eq!(again.body, before.body, "the same envelope, byte for byte");
    }
    assert_eq!(event_id(&held[1]), held_event);
    assert_eq!(delivery_id(&held[1]), held_delivery);

    // SIGTERM lets the worker record the attempts in flight; nothing more is sent after it.
    assert_eq!(third.terminate().code(), Some(0));
    assert_eq!(rx.received().len(), 4, "nothing more after the clean stop");

    // The API agrees (asked of a process without a worker): one delivery per event, both
    // delivered with 200.
    let fourth = Server::start_with(&dir, database_url, &[], &env(false));
    let deliveries = api.deliveries(&fourth.base, &hook).await;
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    for d in &deliveries {
        assert_eq!(d["status_code"], 200, "{d}");
        assert!(d["delivered_at"].is_string(), "{d}");
    }
    assert_eq!(fourth.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_delivery_sqlite() {
    let dir = TempDir::new();
    sigkill_between_commit_and_delivery(&dir.sqlite_url()).await;
}

async fn fresh_postgres() -> Option<String> {
    match store_postgres::testing::fresh_database().await {
        Ok((_, url)) => Some(url),
        Err(e) if store_postgres::testing::skip_allowed() => {
            eprintln!("!!! SKIPPING a Postgres test (SLOTBOOK_SKIP_POSTGRES=1): {e:#}");
            None
        }
        Err(e) => panic!("{e:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_delivery_postgres() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    sigkill_between_commit_and_delivery(&url).await;
}

/// `slotbook_webhook_deliveries_total{outcome="delivered"}` of one process.
async fn delivered_counter(http: &reqwest::Client, base: &str) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("slotbook_webhook_deliveries_total") && l.contains("delivered"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_deliver_each_event_once() {
    const BOOKINGS: i64 = 200;
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let dir = TempDir::new();
    let seeded = seed(&url).await;
    let rx = Receiver::start().await;
    let api = Arc::new(Api {
        http: client(),
        token: seeded.token.clone(),
    });
    let a = Server::start_with(&dir, &url, &[], &env(true));
    let b = Server::start_with(&dir, &url, &[], &env(true));
    let hook = api.subscribe(&a.base, &rx.url("/hook")).await;

    // 200 bookings, alternately through each process, 8 at a time.
    let seeded = Arc::new(seeded);
    let mut uids = Vec::new();
    for chunk in (0..BOOKINGS).collect::<Vec<_>>().chunks(8) {
        let mut tasks = tokio::task::JoinSet::new();
        for &n in chunk {
            let base = if n % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            let (api, seeded) = (api.clone(), seeded.clone());
            tasks.spawn(async move { api.book(&base, &seeded, n).await });
        }
        while let Some(uid) = tasks.join_next().await {
            uids.push(uid.unwrap());
        }
    }
    rx.wait_for(BOOKINGS as usize, 2 * BOUND).await;
    let first_page = api.deliveries(&a.base, &hook).await;
    assert!(!first_page.is_empty());
    // Informational (the last pass may not be counted yet): how the work was shared.
    let (delivered_a, delivered_b) = (
        delivered_counter(&api.http, &a.base).await,
        delivered_counter(&api.http, &b.base).await,
    );
    eprintln!("two processes: a has delivered {delivered_a}, b {delivered_b} so far");

    // Stop both cleanly (each finishes its attempts in flight), then count what arrived:
    // nothing can arrive later.
    assert_eq!(a.terminate().code(), Some(0));
    assert_eq!(b.terminate().code(), Some(0));
    let got = rx.received();
    let mut by_event: HashMap<String, usize> = HashMap::new();
    let mut by_delivery: HashMap<String, usize> = HashMap::new();
    for r in &got {
        *by_event.entry(event_id(r)).or_default() += 1;
        *by_delivery.entry(delivery_id(r)).or_default() += 1;
    }
    let dup: Vec<_> = by_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "events delivered more than once: {dup:?}");
    assert_eq!(
        got.len(),
        BOOKINGS as usize,
        "exactly one request per booking"
    );
    assert_eq!(by_event.len(), BOOKINGS as usize);
    assert_eq!(by_delivery.len(), BOOKINGS as usize);
    let booked: std::collections::HashSet<String> = uids.into_iter().collect();
    let seen: std::collections::HashSet<String> = got
        .iter()
        .map(|r| {
            r.json()["data"]["booking"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(seen, booked, "every booking's event arrived");
}
