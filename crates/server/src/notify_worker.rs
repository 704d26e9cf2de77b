//! The notification worker: one task that fans booking outbox messages out into
//! notifications and sends the due ones through [`NotificationService`], waking every
//! `poll` (e-mail is not latency-critical; a pass takes all that is due). It runs inside
//! `slotbook serve` (unless `[notifications] worker = false`) and in `slotbook worker`.
//! Several processes share the work safely: every claim is a lease.
//!
//! Metrics: `slotbook_notifications_total{outcome=sent|retry|failed|skipped}`.

use domain::notification_service::{NotificationService, SendReport};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Outbox messages fanned out per pass.
const FAN_OUT_BATCH: u32 = 100;
/// Notifications sent per pass.
const SEND_BATCH: u32 = 20;

/// Counts one pass's outcomes.
pub fn record(report: &SendReport) {
    for (outcome, n) in [
        ("sent", report.sent),
        ("retry", report.retried),
        ("failed", report.failed),
        ("skipped", report.skipped),
    ] {
        if n > 0 {
            metrics::counter!("slotbook_notifications_total", "outcome" => outcome)
                .increment(u64::from(n));
        }
    }
}

/// One pass: how much work it did.
async fn pass(service: &NotificationService) -> u64 {
    let mut did = 0u64;
    match service.fan_out(FAN_OUT_BATCH).await {
        Ok(n) => did += n as u64,
        Err(e) => tracing::error!(error = ?e, "notification fan-out failed"),
    }
    match service.send_due(SEND_BATCH).await {
        Ok(r) => {
            record(&r);
            did += u64::from(r.handled());
        }
        Err(e) => tracing::error!(error = ?e, "notification send pass failed"),
    }
    did
}

/// A running notification worker.
pub struct NotificationWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl NotificationWorker {
    pub fn start(service: NotificationService, poll: Duration) -> Self {
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                if *rx.borrow() {
                    break;
                }
                if pass(&service).await > 0 {
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = rx.changed() => break,
                }
            }
        });
        tracing::info!("notification worker started");
        Self { stop, task }
    }

    /// Stops after the message in flight (at most `grace`).
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("notification worker did not stop in time; its leases expire");
            task.abort();
        }
    }
}
