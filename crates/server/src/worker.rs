//! The webhook delivery worker: `concurrency` tasks, each fanning out outbox messages and
//! making due attempts through [`WebhookService`], plus one housekeeping task (queue-depth
//! gauge; retention purge in bounded batches of finished deliveries, fanned-out outbox
//! messages (those that send e-mail only once notified too) and expired idempotency keys). It runs inside `slotbook serve` or alone as
//! `slotbook worker`.
//!
//! Idle tasks wait for a wake-up (Postgres `LISTEN/NOTIFY`, the SQLite commit signal) or the
//! poll tick, whichever comes first; a task that found work wakes a sibling, so a burst spreads
//! over all tasks. Several processes share the work safely: every claim is a lease (Postgres
//! `FOR UPDATE SKIP LOCKED`), and fan-out is idempotent per (subscription, event).
//!
//! Metrics: `slotbook_webhook_deliveries_total{outcome=delivered|retry|exhausted}`,
//! `slotbook_webhook_first_attempt_delay_seconds` (commit to first attempt, histogram) and
//! `slotbook_webhook_queue_depth` (pending deliveries plus outbox messages not fanned out).

use domain::ports::IdempotencyStore;
use domain::webhook_service::{DeliveryReport, WebhookService};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub poll: Duration,
    pub retention: SignedDuration,
    pub purge_batch: u32,
    /// `[notifications] enabled`: the purge keeps outbox messages that send e-mail until the
    /// notification consumer has handled them.
    pub notifications: bool,
}

impl WorkerSettings {
    /// From `[webhooks]` and `[notifications] enabled`.
    pub fn from_config(c: &crate::config::WebhooksConfig, notifications: bool) -> Self {
        Self {
            concurrency: c.concurrency.max(1),
            poll: Duration::from_millis(c.poll_interval_ms.max(10)),
            retention: SignedDuration::from_hours(24 * i64::from(c.retention_days)),
            purge_batch: c.purge_batch.max(1),
            notifications,
        }
    }
}

/// Outbox messages fanned out per pass.
const FAN_OUT_BATCH: u32 = 100;
/// Deliveries claimed per pass and task.
const DELIVERY_BATCH: u32 = 10;
/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(5);
/// Purges at most this many batches per housekeeping round.
pub const MAX_PURGE_BATCHES: u32 = 20;

/// A running worker; [`Worker::stop`] ends it after the attempts in flight.
pub struct Worker {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

fn record(report: &DeliveryReport) {
    for (outcome, n) in [
        ("delivered", report.delivered),
        ("retry", report.retried),
        ("exhausted", report.exhausted),
    ] {
        if n > 0 {
            metrics::counter!("slotbook_webhook_deliveries_total", "outcome" => outcome)
                .increment(u64::from(n));
        }
    }
    for d in &report.first_attempt_delays {
        metrics::histogram!("slotbook_webhook_first_attempt_delay_seconds")
            .record(d.as_secs_f64().max(0.0));
    }
}

/// One pass of one task: how much work it did.
async fn pass(service: &WebhookService) -> u64 {
    let mut did = 0u64;
    match service.fan_out(FAN_OUT_BATCH).await {
        Ok(n) => did += n as u64,
        Err(e) => tracing::error!(error = ?e, "webhook fan-out failed"),
    }
    match service.deliver_due(DELIVERY_BATCH).await {
        Ok(r) => {
            record(&r);
            did += u64::from(r.attempts());
        }
        Err(e) => tracing::error!(error = ?e, "webhook delivery pass failed"),
    }
    did
}

async fn deliver_loop(
    service: WebhookService,
    wake: Arc<Notify>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        if pass(&service).await > 0 {
            wake.notify_one();
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Updates the queue-depth gauge, purges finished deliveries and outbox messages older than the
/// retention period and idempotency keys past their 24 hours, each in at most
/// [`MAX_PURGE_BATCHES`] batches of `purge_batch` rows per round.
pub async fn housekeeping(
    service: &WebhookService,
    idempotency: &dyn IdempotencyStore,
    settings: &WorkerSettings,
) {
    match service.store.queue_depth().await {
        Ok(n) => metrics::gauge!("slotbook_webhook_queue_depth").set(n as f64),
        Err(e) => tracing::warn!(error = ?e, "could not read the webhook queue depth"),
    }
    for _ in 0..MAX_PURGE_BATCHES {
        match service
            .purge(
                settings.retention,
                settings.purge_batch,
                settings.notifications,
            )
            .await
        {
            Ok(n) if n >= u64::from(settings.purge_batch) => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = ?e, "webhook retention purge failed");
                break;
            }
        }
    }
    for _ in 0..MAX_PURGE_BATCHES {
        match domain::retention::purge_expired_idempotency(
            idempotency,
            service.clock.as_ref(),
            settings.purge_batch,
        )
        .await
        {
            Ok(n) if n >= u64::from(settings.purge_batch) => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = ?e, "idempotency key purge failed");
                break;
            }
        }
    }
}

impl Worker {
    /// Starts the tasks; housekeeping also purges `idempotency`.
    pub fn start(
        service: WebhookService,
        idempotency: Arc<dyn IdempotencyStore>,
        wake: Arc<Notify>,
        settings: WorkerSettings,
    ) -> Self {
        let (stop, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for _ in 0..settings.concurrency {
            tasks.spawn(deliver_loop(
                service.clone(),
                wake.clone(),
                settings.poll,
                rx.clone(),
            ));
        }
        let tasks_n = settings.concurrency;
        let mut hk_stop = rx;
        tasks.spawn(async move {
            loop {
                housekeeping(&service, idempotency.as_ref(), &settings).await;
                tokio::select! {
                    () = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
                    _ = hk_stop.changed() => break,
                }
            }
        });
        tracing::info!(tasks = tasks_n, "webhook delivery worker started");
        Self { stop, tasks }
    }

    /// Asks every task to stop and waits (at most `grace`) for the attempts in flight.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "webhook worker did not stop in time; abandoning attempts in flight (their leases expire)"
            );
            self.tasks.abort_all();
        }
    }
}
