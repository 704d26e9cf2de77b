//! The concurrency rows of the reliability scorecard: many clients booking one slot at once
//! (exactly one may win; the others get `409 slot_unavailable`), and a storm of random
//! overlapping round-robin bookings after which no host holds two overlapping bookings. The
//! requests go round-robin over one or several servers sharing one database.

use crate::raw;
use anyhow::{Context as _, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// Servers and credentials of a race.
#[derive(Debug, Clone)]
pub struct Arena {
    pub servers: Vec<SocketAddr>,
    pub token: String,
}

/// What a burst of creates answered.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub won: u32,
    pub refused: u32,
    /// Anything else: a 5xx, another status or no answer.
    pub other: u32,
}

fn post_booking(token: &str, event_type: &str, start: Timestamp, n: usize) -> Vec<u8> {
    let body = json!({
        "event_type_id": event_type,
        "start": start.to_string(),
        "attendee": {"email": format!("racer{n}@example.com"), "name": "Racer"},
    })
    .to_string();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = format!(
        "race-{}-{n}-{serial}-{}",
        start.as_millisecond(),
        std::process::id()
    );
    raw::request(
        b"POST",
        b"/v1/bookings",
        &[
            ("Authorization", format!("Bearer {token}").as_bytes()),
            ("Content-Type", b"application/json"),
            ("Idempotency-Key", key.as_bytes()),
        ],
        body.as_bytes(),
    )
}

/// `clients` simultaneous creates of `event_type` at each of `starts[i]`, spread over the
/// servers; one [`Tally`] per start.
pub async fn burst(
    a: &Arena,
    event_type: &str,
    starts: &[Timestamp],
    clients: usize,
) -> Vec<Tally> {
    let mut handles = Vec::new();
    for (si, &start) in starts.iter().enumerate() {
        for n in 0..clients {
            let addr = a.servers[(si * clients + n) % a.servers.len()];
            let req = post_booking(&a.token, event_type, start, si * clients + n);
            handles.push((si, tokio::spawn(async move { raw::send(addr, &req).await })));
        }
    }
    let mut tallies = vec![Tally::default(); starts.len()];
    for (si, h) in handles {
        let t = &mut tallies[si];
        match h.await {
            Ok(Ok(ans)) if ans.status == 201 => t.won += 1,
            Ok(Ok(ans))
                if ans.status == 409 && ans.json()["error"]["code"] == "slot_unavailable" =>
            {
                t.refused += 1
            }
            _ => t.other += 1,
        }
    }
    tallies
}

/// Every booking of `event_type` (all pages).
pub async fn bookings(a: &Arena, event_type: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path =
            format!("/v1/bookings?event_type_id={event_type}&limit=100&sort=start_at_asc");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let req = raw::request(
            b"GET",
            path.as_bytes(),
            &[("Authorization", format!("Bearer {}", a.token).as_bytes())],
            b"",
        );
        let ans = raw::send(a.servers[0], &req).await?;
        if ans.status != 200 {
            bail!("listing bookings answered {}", ans.status);
        }
        let v = ans.json();
        out.extend(v["data"].as_array().cloned().unwrap_or_default());
        match v["meta"]["next_cursor"].as_str() {
            Some(c) if v["meta"]["has_more"] == true => cursor = Some(c.to_owned()),
            _ => return Ok(out),
        }
    }
}

/// Pairs of bookings of one host that hold time and overlap.
pub fn overlaps(bookings: &[Value]) -> anyhow::Result<usize> {
    let mut held: Vec<(String, Timestamp, Timestamp)> = Vec::new();
    for b in bookings {
        let status = b["status"].as_str().unwrap_or("");
        if status != "confirmed" && status != "pending" {
            continue;
        }
        let ts = |k: &str| -> anyhow::Result<Timestamp> {
            b[k].as_str().context("instant")?.parse().context("instant")
        };
        let host = b["host"]["user_id"].as_str().unwrap_or("").to_owned();
        held.push((host, ts("start_at")?, ts("end_at")?));
    }
    held.sort();
    Ok(held
        .windows(2)
        .filter(|w| w[0].0 == w[1].0 && w[1].1 < w[0].2)
        .count())
}

/// A storm: `requests` creates at pseudo-random starts on a 15-minute grid over `span` from
/// `from`, `concurrency` at a time; returns how many were accepted.
pub async fn storm(
    a: &Arena,
    event_type: &str,
    from: Timestamp,
    grid_points: u32,
    requests: usize,
    concurrency: usize,
    seed: u64,
) -> (u32, u32) {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let starts: Vec<Timestamp> = (0..requests)
        .map(|_| {
            let k = i64::try_from(next() % u64::from(grid_points)).unwrap_or(0);
            from + SignedDuration::from_mins(15 * k)
        })
        .collect();
    let (mut won, mut other) = (0, 0);
    for chunk in starts.chunks(concurrency.max(1)) {
        for t in burst(a, event_type, chunk, 1).await {
            won += t.won;
            other += t.other;
        }
    }
    (won, other)
}
