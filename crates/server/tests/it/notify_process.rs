//! Booking e-mails across real `slotbook serve` processes (issue 16), with the test kit's SMTP
//! sink on loopback as the relay (`[notifications.smtp] security = "plain"`), on SQLite and
//! Postgres:
//!
//! - SIGKILL between a booking's commit and its send. (a) Killed before the worker read the
//!   outbox (the worker is off in the first process): after the restart each message arrives
//!   exactly once. (b) Killed while a message is in the relay's hands but its `250` has not
//!   come back ([`testkit::SinkMode::Hold`]): that one message arrives again after the lease,
//!   with the same `Message-ID`; every other message exactly once. What is guaranteed: no
//!   message is lost, a message not yet handed to the relay is sent exactly once, and the only
//!   duplicate a crash can cause is the message whose SMTP transaction was in flight, re-sent
//!   with the same `Message-ID` (receivers can dedupe on it). SMTP has no way to close that
//!   window.
//! - `slotbook admin notification list --org … [--status failed] [--json]` with real failed
//!   (`550` from the relay) and sent notifications.
//!
//! Every wait is on an observable event (the sink's arrivals and refusals, `listening on`, a
//! process exit) with a bound.

use crate::support::{BOUND, Seeded, Server, TempDir, client, run, seed_host, slotbook};
use domain::notification::NotificationState;
use domain::notification_service::NotificationLog;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use testkit::{MailSink, ReceivedMail, SinkMode};

const PEPPER: &str = "notify-process-test-pepper-0123456789abcdef";
/// The notification lease (a send cut off by SIGKILL is made again after it) and the SMTP
/// command timeout (the lease must be at least three of them).
const LEASE_SECS: u64 = 30;
const SMTP_TIMEOUT_SECS: u64 = 10;

async fn seed(database_url: &str) -> Seeded {
    seed_host(database_url, PEPPER, "Notification processes").await
}

/// Environment for a server mailing through `sink` (reminders off, webhooks off).
fn env(sink: &MailSink, worker: bool) -> Vec<(String, String)> {
    [
        ("SLOTBOOK__SECURITY__PEPPER", PEPPER.to_owned()),
        ("SLOTBOOK__WEBHOOKS__WORKER", "false".to_owned()),
        ("SLOTBOOK__NOTIFICATIONS__WORKER", worker.to_string()),
        ("SLOTBOOK__NOTIFICATIONS__REMINDER_HOURS", "0".to_owned()),
        ("SLOTBOOK__NOTIFICATIONS__POLL_INTERVAL_MS", "50".to_owned()),
        (
            "SLOTBOOK__NOTIFICATIONS__LEASE_SECS",
            LEASE_SECS.to_string(),
        ),
        (
            "SLOTBOOK__NOTIFICATIONS__SMTP__HOST",
            "127.0.0.1".to_owned(),
        ),
        (
            "SLOTBOOK__NOTIFICATIONS__SMTP__PORT",
            sink.port().to_string(),
        ),
        (
            "SLOTBOOK__NOTIFICATIONS__SMTP__SECURITY",
            "plain".to_owned(),
        ),
        (
            "SLOTBOOK__NOTIFICATIONS__SMTP__TIMEOUT_SECS",
            SMTP_TIMEOUT_SECS.to_string(),
        ),
        (
            "SLOTBOOK__RATE_LIMIT__AUTHENTICATED_PER_MINUTE",
            "100000".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn start(dir: &TempDir, url: &str, sink: &MailSink, worker: bool) -> Server {
    let env = env(sink, worker);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(dir, url, &[], &refs);
    let says = |s: &str| server.preamble.iter().any(|l| l.contains(s));
    if worker {
        assert!(says("e-mails are sent through"), "{:?}", server.preamble);
    } else {
        assert!(says("notifications: queued"), "{:?}", server.preamble);
    }
    server
}

/// Books the `n`th 5-minute slot from tomorrow 00:00 Berlin for `a<n>@example.com`.
async fn book(http: &reqwest::Client, base: &str, seeded: &Seeded, n: i64) -> String {
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let day = Timestamp::now()
        .to_zoned(berlin.clone())
        .date()
        .tomorrow()
        .unwrap();
    let start = day
        .to_zoned(berlin)
        .unwrap()
        .timestamp()
        .checked_add(SignedDuration::from_mins(5 * n))
        .unwrap();
    let r = http
        .post(format!("{base}/v1/bookings"))
        .bearer_auth(&seeded.token)
        .header("idempotency-key", format!("notify-{n}"))
        .json(&json!({
            "event_type_id": seeded.event_type,
            "start": start.to_string(),
            "attendee": {"email": format!("a{n}@example.com"), "name": "A", "timezone": "Europe/Berlin"},
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "booking {n}: {body}");
    body["data"]["uid"].as_str().unwrap().to_owned()
}

/// A header of a received message (unfolded headers only; `Message-ID` is never folded).
fn header(m: &ReceivedMail, name: &str) -> String {
    let text = String::from_utf8_lossy(&m.data);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} header in {head}"))
}

fn recipient(m: &ReceivedMail) -> String {
    assert_eq!(m.to.len(), 1, "one recipient per message: {:?}", m.to);
    m.to[0].clone()
}

async fn sigkill_between_commit_and_send(database_url: &str) {
    let dir = TempDir::new();
    let seeded = seed(database_url).await;
    let sink = MailSink::start().await;
    let http = client();

    // (a) Committed, not yet read by any worker: the first process runs none.
    let first = start(&dir, database_url, &sink, false);
    let uid_a = book(&http, &first.base, &seeded, 0).await;
    assert!(!first.kill().success(), "SIGKILL ends the process");
    assert!(
        sink.messages().is_empty(),
        "nothing was sent before the kill"
    );

    // (b) A's first message reaches the relay, which holds its `250`; meanwhile B is committed
    // (the worker sends one message at a time, so B is not even fanned out). SIGKILL.
    sink.hold();
    let second = start(&dir, database_url, &sink, true);
    let held = sink.wait_for_within(1, BOUND).await;
    let held = held[0].clone();
    let uid_b = book(&http, &second.base, &seeded, 1).await;
    assert!(!second.kill().success());
    assert_eq!(
        sink.messages().len(),
        1,
        "only the held message reached the relay before the kill"
    );
    sink.release();

    // (c) Restart. B's two messages go at once; A's two once their lease (claimed by the killed
    // process) expires: the held one again, with the same Message-ID, and A's other one.
    let third = start(&dir, database_url, &sink, true);
    sink.wait_for_within(5, BOUND + Duration::from_secs(LEASE_SECS))
        .await;
    assert_eq!(third.terminate().code(), Some(0), "a clean stop");
    let all = sink.messages();
    assert_eq!(all.len(), 5, "nothing more after the clean stop");

    let mut by_id: HashMap<String, Vec<&ReceivedMail>> = HashMap::new();
    for m in &all {
        by_id.entry(header(m, "Message-ID")).or_default().push(m);
    }
    assert_eq!(
        by_id.len(),
        4,
        "four notifications: attendee and host of A and B"
    );
    let held_id = header(&held, "Message-ID");
    for (id, copies) in &by_id {
        if *id == held_id {
            assert_eq!(
                copies.len(),
                2,
                "the message in flight at the kill is re-sent once"
            );
            assert_eq!(recipient(copies[0]), recipient(copies[1]));
            assert_eq!(
                header(copies[0], "Subject"),
                header(copies[1], "Subject"),
                "the same stored message"
            );
        } else {
            assert_eq!(copies.len(), 1, "{id} was sent exactly once");
        }
    }
    let mut recipients: Vec<String> = by_id.values().map(|c| recipient(c[0])).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "<a0@example.com>",
            "<a1@example.com>",
            "<host@example.com>",
            "<host@example.com>"
        ]
    );

    // The server's record agrees: four notifications, each sent, each after one recorded
    // attempt (the cut-off attempt was never recorded).
    let opened = server::wiring::open_store(database_url).await.unwrap();
    let log = NotificationLog {
        store: opened.storage.clone(),
    };
    let listed = log.list(seeded.org, None, 100).await.unwrap();
    assert_eq!(listed.len(), 4, "{listed:?}");
    for n in &listed {
        assert_eq!(n.state, NotificationState::Sent, "{n:?}");
        assert_eq!(n.attempts, 1, "{n:?}");
        assert!(
            [uid_a.as_str(), uid_b.as_str()].contains(&n.booking_uid.to_string().as_str()),
            "{n:?}"
        );
        assert!(by_id.contains_key(&format!("<{}@slotbook>", n.id)), "{n:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_send_sqlite() {
    let dir = TempDir::new();
    sigkill_between_commit_and_send(&dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_send_postgres() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    sigkill_between_commit_and_send(&url).await;
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

/// `slotbook admin notification list ARGS` over `database_url`.
fn list(dir: &TempDir, database_url: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = slotbook(dir);
    cmd.env("SLOTBOOK__DATABASE__URL", database_url)
        .env("SLOTBOOK__SECURITY__PEPPER", PEPPER)
        .env("SLOTBOOK__LOG__LEVEL", "warn")
        .args(["admin", "notification", "list"])
        .args(args);
    run(cmd, None)
}

fn ok_stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn admin_notification_list(database_url: &str) {
    let dir = TempDir::new();
    let seeded = seed(database_url).await;
    let sink = MailSink::start().await;
    let http = client();
    let server = start(&dir, database_url, &sink, true);

    // A's two messages are refused permanently (550); then B's two are accepted. The worker
    // records A's before it reads B's outbox message, and SIGTERM lets it record B's.
    sink.set_mode(SinkMode::Refuse);
    let uid_a = book(&http, &server.base, &seeded, 0).await;
    sink.wait_for_refusals(2, BOUND).await;
    sink.set_mode(SinkMode::Accept);
    let uid_b = book(&http, &server.base, &seeded, 1).await;
    sink.wait_for_within(2, BOUND).await;
    assert_eq!(server.terminate().code(), Some(0));
    let org = seeded.org.to_string();

    // Human output: a header and one tab-separated row per notification, newest first.
    let text = ok_stdout(&list(&dir, database_url, &["--org", &org]));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ID\tSTATUS\tKIND\tRECIPIENT\tATTEMPTS\tCREATED\tLAST_ERROR")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 4, "{text}");
    for r in &rows {
        assert_eq!(r.len(), 7, "{r:?}");
        assert_eq!(r[2], "created");
        assert_eq!(r[4], "1", "one attempt each: {r:?}");
        match r[1] {
            "failed" => {
                assert!(
                    r[3] == "a0@example.com" || r[3] == "host@example.com",
                    "{r:?}"
                );
                assert!(r[6].contains("550"), "the relay's answer: {r:?}");
            }
            "sent" => {
                assert!(
                    r[3] == "a1@example.com" || r[3] == "host@example.com",
                    "{r:?}"
                );
                assert_eq!(r[6], "-");
            }
            other => panic!("unexpected status {other}: {text}"),
        }
    }
    assert_eq!(
        rows.iter().filter(|r| r[1] == "failed").count(),
        2,
        "{text}"
    );
    assert!(
        rows[..2].iter().all(|r| r[1] == "sent"),
        "newest first: {text}"
    );

    // --status failed: only the refused ones.
    let text = ok_stdout(&list(
        &dir,
        database_url,
        &["--org", &org, "--status", "failed"],
    ));
    let failed: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(failed.len(), 2, "{text}");
    assert!(failed.iter().all(|l| l.contains("\tfailed\t")), "{text}");
    let mut who: Vec<&str> = failed
        .iter()
        .map(|l| l.split('\t').nth(3).unwrap())
        .collect();
    who.sort();
    assert_eq!(who, ["a0@example.com", "host@example.com"]);

    // --json: one array, every field typed.
    let all: Value = serde_json::from_str(&ok_stdout(&list(
        &dir,
        database_url,
        &["--org", &org, "--json"],
    )))
    .unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 4);
    for n in all {
        assert_eq!(n["kind"], "created", "{n}");
        assert_eq!(n["invite"], "REQUEST", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        assert!(n["id"].is_string() && n["event_id"].is_string(), "{n}");
        assert!(n["created_at"].is_string(), "{n}");
        assert!(n["subject"].as_str().unwrap().contains("Quick"), "{n}");
        match n["status"].as_str().unwrap() {
            "failed" => {
                assert_eq!(n["booking_uid"], uid_a.as_str(), "{n}");
                assert!(n["last_error"].as_str().unwrap().contains("550"), "{n}");
                assert!(
                    n["sent_at"].is_null() && n["next_attempt_at"].is_null(),
                    "{n}"
                );
            }
            "sent" => {
                assert_eq!(n["booking_uid"], uid_b.as_str(), "{n}");
                assert!(n["sent_at"].is_string() && n["last_error"].is_null(), "{n}");
            }
            other => panic!("unexpected status {other}: {n}"),
        }
    }
    let roles: Vec<&str> = all.iter().map(|n| n["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles.iter().filter(|r| **r == "host").count(),
        2,
        "{roles:?}"
    );
    assert_eq!(
        roles.iter().filter(|r| **r == "attendee").count(),
        2,
        "{roles:?}"
    );

    let failed: Value = serde_json::from_str(&ok_stdout(&list(
        &dir,
        database_url,
        &["--org", &org, "--status", "failed", "--json"],
    )))
    .unwrap();
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|n| n["status"] == "failed"), "{failed:?}");

    // A status that does not exist is refused with the accepted ones named.
    let bad = list(&dir, database_url, &["--org", &org, "--status", "bounced"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("pending, sent, failed or skipped"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_notification_list_sqlite() {
    let dir = TempDir::new();
    admin_notification_list(&dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_notification_list_postgres() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    admin_notification_list(&url).await;
}
