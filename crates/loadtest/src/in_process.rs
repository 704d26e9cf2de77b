//! The reference of issue 18 item 2: bookings per second of the domain's
//! `BookingService::create` called in this process on the server's own database, with the same
//! concurrency as the HTTP scenario and the same walk of starts, so that `POST /v1/bookings`
//! can be reported as a ratio of it in one run. What the HTTP path adds on top of this is
//! everything it does besides the use case: parsing, authentication, rate limiting, the
//! idempotency reservation and its stored response, and the JSON answer.
//!
//! The store is opened with the server's default settings (`server::wiring::open_store`, the
//! defaults of `defaults.toml`: e.g. SQLite `synchronous=FULL`), after the measured server has
//! stopped, so the two never share the writer.

use crate::load::{BookingWalk, ConnStats, LoadConfig, MAX_LATENCY_MICROS, Outcome, new_histogram};
use anyhow::Context as _;
use domain::OrganizationId;
use domain::booking_input::{AttendeeDraft, BookingDraft};
use domain::booking_service::BookingService;
use domain::event_type::EventTypeRef;
use server::wiring::{SystemClock, UuidV7};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// The pseudo-status an outcome counts a created booking under (what the HTTP scenario counts
/// as `201`); any error counts as `0`.
const CREATED: u16 = 201;

/// Runs `config.connections` tasks that book the walk's next start back to back through
/// `BookingService::create` until `config.duration` or `config.max_requests` is reached.
pub async fn bookings(
    name: &str,
    database_url: &str,
    org: OrganizationId,
    walk: Arc<BookingWalk>,
    config: LoadConfig,
) -> anyhow::Result<Outcome> {
    let opened = server::wiring::open_store(database_url)
        .await
        .context("opening the benchmark database in process")?;
    let service = Arc::new(BookingService::over(
        opened.storage.clone(),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        server::wiring::event_encoder(""),
    ));
    let event_type: domain::EventTypeId = uuid::Uuid::parse_str(&walk.event_type_id)
        .context("the walk's event type id")?
        .into();
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + config.duration;
    let tasks: Vec<_> = (0..config.connections.max(1))
        .map(|_| {
            let (service, walk, issued) = (service.clone(), walk.clone(), issued.clone());
            tokio::spawn(async move {
                let mut stats = ConnStats {
                    histogram: new_histogram()?,
                    statuses: BTreeMap::new(),
                    requests: 0,
                    errors: 0,
                };
                while Instant::now() < deadline
                    && issued.fetch_add(1, Ordering::Relaxed) < config.max_requests
                {
                    let (n, start) = walk.next_start()?;
                    let draft = BookingDraft {
                        event_type: Some(EventTypeRef::Id(event_type)),
                        start: Some(start),
                        attendee: Some(AttendeeDraft {
                            email: Some(format!("load{n}@example.com")),
                            name: Some(format!("Load Test {n}")),
                            timezone: Some("Europe/Berlin".to_owned()),
                            ..AttendeeDraft::default()
                        }),
                        ..BookingDraft::default()
                    };
                    let sent = Instant::now();
                    let status = match service.create(org, draft, None).await {
                        Ok(_) => CREATED,
                        Err(_) => 0,
                    };
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    stats
                        .histogram
                        .saturating_record(micros.clamp(1, MAX_LATENCY_MICROS));
                    *stats.statuses.entry(status).or_default() += 1;
                    stats.requests += 1;
                }
                anyhow::Ok(stats)
            })
        })
        .collect();
    let outcome = Outcome::collect(name.to_owned(), tasks, started).await?;
    opened.storage.close().await;
    Ok(outcome)
}
