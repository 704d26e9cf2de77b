//! Webhook subscriptions and deliveries ([`WebhookStore`]): round trips and the owner filter,
//! idempotent fan-out that marks the outbox message done, leased claims of due deliveries of
//! active subscriptions only, the auto-pause counter, newest-first pagination, retention (which
//! waits for the notification consumer's cursor).

use crate::fixtures::{World, millis, mins};
use domain::ids::OrganizationId;
use domain::notification::NOTIFIED_EVENTS;
use domain::pagination::{Limit, PageRequest};
use domain::ports::*;
use domain::webhook::*;
use jiff::SignedDuration;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::Barrier;

const LEASE: SignedDuration = SignedDuration::from_secs(60);

fn webhook(w: &World, org: OrganizationId, owner: &str, events: &[WebhookEvent]) -> Webhook {
    Webhook {
        id: WebhookId(w.id()),
        organization_id: org,
        owner: owner.to_owned(),
        url: "https://hooks.example.com/x".into(),
        events: events.to_vec(),
        description: Some("d".into()),
        status: WebhookStatus::Active,
        paused_reason: None,
        consecutive_failures: 0,
        sealed_secret: vec![1, 2, 3, 0, 255],
        last_delivery_at: None,
        last_delivery_ok: None,
        created_at: w.now(),
        updated_at: w.now(),
    }
}

/// Subscriptions round-trip whole; the owner filter and organization scope hold; update and
/// delete report missing rows.
pub async fn webhooks_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let other = w.create_organization("other").await;
    let a = webhook(
        &w,
        org.id,
        "pat:a",
        &[WebhookEvent::BookingCreated, WebhookEvent::EventTypeDeleted],
    );
    w.clock.advance(millis(1));
    let b = webhook(&w, org.id, "pat:b", &[WebhookEvent::BookingCanceled]);
    w.store.create_webhook(&a).await.unwrap();
    w.store.create_webhook(&b).await.unwrap();
    assert_eq!(
        w.store.get_webhook(org.id, a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(w.store.get_webhook(other.id, a.id).await.unwrap(), None);
    assert_eq!(
        w.store.list_webhooks(org.id, None).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        w.store.list_webhooks(org.id, Some("pat:b")).await.unwrap(),
        vec![b.clone()]
    );
    assert_eq!(w.store.list_webhooks(other.id, None).await.unwrap(), vec![]);

    let mut changed = a.clone();
    changed.url = "https://hooks.example.com/y".into();
    changed.status = WebhookStatus::Paused;
    changed.paused_reason = Some("why".into());
    changed.description = None;
    changed.last_delivery_ok = Some(false);
    changed.last_delivery_at = Some(w.now());
    assert!(w.store.update_webhook(&changed).await.unwrap());
    assert_eq!(
        w.store.get_webhook(org.id, a.id).await.unwrap(),
        Some(changed.clone())
    );
    let mut foreign = changed.clone();
    foreign.organization_id = other.id;
    assert!(!w.store.update_webhook(&foreign).await.unwrap());

    assert!(!w.store.delete_webhook(other.id, a.id).await.unwrap());
    assert!(w.store.delete_webhook(org.id, a.id).await.unwrap());
    assert!(!w.store.delete_webhook(org.id, a.id).await.unwrap());
    assert_eq!(w.store.list_webhooks(org.id, None).await.unwrap(), vec![b]);
}

/// Fan-out inserts the deliveries and marks the message done together; repeating it adds
/// nothing; claims return due deliveries of active subscriptions, leased.
pub async fn fan_out_is_idempotent_and_claims_lease(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let hook = webhook(&w, org.id, "pat:a", &[WebhookEvent::BookingCreated]);
    w.store.create_webhook(&hook).await.unwrap();
    let m = w.outbox_message(org.id, "booking.created");
    w.store.enqueue(&m).await.unwrap();
    let now = w.now();
    let d = Delivery::first(DeliveryId(w.id()), &hook, &m, now);
    w.store
        .fan_out(&m, std::slice::from_ref(&d), now)
        .await
        .unwrap();
    assert_eq!(
        w.store.pending(org.id).await.unwrap(),
        vec![],
        "message done"
    );
    let again = Delivery::first(DeliveryId(w.id()), &hook, &m, now);
    w.store.fan_out(&m, &[again], now).await.unwrap();
    assert_eq!(
        w.store.queue_depth().await.unwrap(),
        1,
        "one delivery per (webhook, event)"
    );
    assert_eq!(
        w.store.get_delivery(org.id, d.id).await.unwrap(),
        Some(d.clone())
    );

    let claimed = w.store.claim_deliveries(now, LEASE, 10).await.unwrap();
    assert_eq!(claimed, vec![d.clone()]);
    assert_eq!(
        w.store.claim_deliveries(now, LEASE, 10).await.unwrap(),
        vec![],
        "leased"
    );
    let later = now + LEASE + millis(1);
    assert_eq!(
        w.store.claim_deliveries(later, LEASE, 10).await.unwrap(),
        vec![d.clone()],
        "lease expired"
    );

    // Not due yet → not claimed; a paused subscription's deliveries wait.
    let mut retry = d.clone();
    let effect = after_attempt(
        &mut retry,
        &AttemptResult::Failure {
            status: Some(500),
            error: "HTTP 500".into(),
        },
        later,
        false,
    );
    assert_eq!(effect, AttemptEffect::Retry);
    w.store
        .record_attempt(&retry, effect, AUTO_PAUSE_AFTER, AUTO_PAUSE_REASON)
        .await
        .unwrap();
    assert_eq!(
        w.store.get_delivery(org.id, d.id).await.unwrap(),
        Some(retry.clone())
    );
    assert_eq!(
        w.store
            .claim_deliveries(later + mins(1) - millis(1), LEASE, 10)
            .await
            .unwrap(),
        vec![]
    );
    let mut paused = w.store.get_webhook(org.id, hook.id).await.unwrap().unwrap();
    assert_eq!(paused.last_delivery_ok, Some(false));
    paused.status = WebhookStatus::Paused;
    w.store.update_webhook(&paused).await.unwrap();
    assert_eq!(
        w.store
            .claim_deliveries(later + mins(1), LEASE, 10)
            .await
            .unwrap(),
        vec![]
    );
    paused.status = WebhookStatus::Active;
    w.store.update_webhook(&paused).await.unwrap();
    assert_eq!(
        w.store
            .claim_deliveries(later + mins(1), LEASE, 10)
            .await
            .unwrap(),
        vec![retry]
    );
}

/// Exhausted deliveries count up and pause the subscription at the threshold (with the
/// reason); a success resets the count.
pub async fn exhausted_deliveries_pause_and_success_resets(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let hook = webhook(&w, org.id, "pat:a", &[WebhookEvent::BookingCreated]);
    w.store.create_webhook(&hook).await.unwrap();
    let record = async |effect: AttemptEffect, ok: bool| {
        let m = w.outbox_message(org.id, "booking.created");
        let mut d = Delivery::first(DeliveryId(w.id()), &hook, &m, w.now());
        w.store.insert_delivery(&d).await.unwrap();
        d.attempts = 6;
        d.state = if ok {
            DeliveryState::Delivered
        } else {
            DeliveryState::Failed
        };
        d.last_attempt_at = Some(w.now());
        w.store
            .record_attempt(&d, effect, 3, "stopped")
            .await
            .unwrap();
        w.store.get_webhook(org.id, hook.id).await.unwrap().unwrap()
    };
    assert_eq!(
        record(AttemptEffect::Exhausted, false)
            .await
            .consecutive_failures,
        1
    );
    assert_eq!(
        record(AttemptEffect::Exhausted, false)
            .await
            .consecutive_failures,
        2
    );
    let h = record(AttemptEffect::Delivered, true).await;
    assert_eq!(
        (h.consecutive_failures, h.last_delivery_ok),
        (0, Some(true))
    );
    record(AttemptEffect::Exhausted, false).await;
    record(AttemptEffect::Exhausted, false).await;
    let h = record(AttemptEffect::Exhausted, false).await;
    assert_eq!(h.status, WebhookStatus::Paused);
    assert_eq!(h.paused_reason.as_deref(), Some("stopped"));
    assert_eq!(h.consecutive_failures, 3);
    let h = record(AttemptEffect::Test, false).await;
    assert_eq!(h.consecutive_failures, 3, "tests count for nothing");
}

/// Deliveries list newest first and page through every row exactly once; retention purges
/// finished rows older than the cutoff, in bounded batches, never pending ones.
pub async fn deliveries_page_newest_first_and_purge(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let hook = webhook(&w, org.id, "pat:a", &[WebhookEvent::BookingCreated]);
    w.store.create_webhook(&hook).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        let m = w.outbox_message(org.id, "booking.created");
        let mut d = Delivery::first(DeliveryId(w.id()), &hook, &m, w.now());
        if i < 5 {
            d.state = DeliveryState::Delivered;
            d.next_attempt_at = None;
        }
        w.store.insert_delivery(&d).await.unwrap();
        ids.push(d.id);
        if i % 2 == 0 {
            w.clock.advance(millis(1));
        }
    }
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: Limit::new(3).unwrap(),
        after: None,
    };
    loop {
        let p = w
            .store
            .list_deliveries(org.id, hook.id, &page)
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|d| d.id));
        let Some(c) = p.next_cursor else { break };
        page.after = Some(domain::pagination::Cursor::decode(&c, DELIVERIES_SORT).unwrap());
    }
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(seen, want, "newest first, each once");

    let cutoff = w.now() + millis(1);
    assert_eq!(
        w.store
            .purge_finished(cutoff, 2, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        2,
        "bounded batch"
    );
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        w.store.queue_depth().await.unwrap(),
        2,
        "pending deliveries stay"
    );
}

/// Concurrent claimers never receive the same delivery.
pub async fn concurrent_delivery_claims_are_disjoint(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let hook = webhook(&w, org.id, "pat:a", &[WebhookEvent::BookingCreated]);
    w.store.create_webhook(&hook).await.unwrap();
    for _ in 0..40 {
        let m = w.outbox_message(org.id, "booking.created");
        let d = Delivery::first(DeliveryId(w.id()), &hook, &m, w.now());
        w.store.insert_delivery(&d).await.unwrap();
    }
    let now = w.now();
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (s, b) = (w.store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            let mut got = Vec::new();
            loop {
                let c = s.claim_deliveries(now, LEASE, 3).await.unwrap();
                if c.is_empty() {
                    break;
                }
                got.extend(c.into_iter().map(|d| d.id));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: BTreeSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (40, 40));
}

/// The outbox purge deletes messages fanned out before the cut-off, except those that send
/// e-mail and that the notification consumer has not handled yet; with no notified events
/// (notifications off) it does not wait. Messages not yet fanned out always stay.
pub async fn outbox_purge_waits_for_notifications(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let message = |event: &str| w.outbox_message(org.id, event);
    let notified = message("booking.created");
    let unnotified = message("booking.canceled");
    let never_mailed = message("event_type.updated");
    let not_fanned_out = message("booking.rescheduled");
    for m in [&notified, &unnotified, &never_mailed, &not_fanned_out] {
        w.store.enqueue(m).await.unwrap();
    }
    let now = w.now();
    for m in [&notified, &unnotified, &never_mailed] {
        w.store.mark_done(org.id, m.id, now).await.unwrap();
    }
    let claimed = w
        .store
        .claim_notification_events(&NOTIFIED_EVENTS, now, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3, "{claimed:?}");
    w.store
        .fan_out_notifications(&notified, &[], &[], now)
        .await
        .unwrap();
    w.store
        .fan_out_notifications(&not_fanned_out, &[], &[], now)
        .await
        .unwrap();

    let cutoff = now + millis(1);
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        2,
        "the notified message and the one no e-mail waits for"
    );
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        0
    );
    let later = now + LEASE + millis(1);
    assert_eq!(
        w.store
            .claim_notification_events(&NOTIFIED_EVENTS, later, LEASE, 10)
            .await
            .unwrap(),
        vec![unnotified.clone()],
        "kept for the notification consumer"
    );
    assert_eq!(
        w.store.pending(org.id).await.unwrap(),
        vec![not_fanned_out.clone()],
        "not fanned out: kept although notified"
    );
    w.store
        .fan_out_notifications(&unnotified, &[], &[], later)
        .await
        .unwrap();
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        1,
        "purged once notified"
    );

    // Notifications off: nothing waits for their cursor.
    let off = message("booking.created");
    w.store.enqueue(&off).await.unwrap();
    w.store.mark_done(org.id, off.id, now).await.unwrap();
    assert_eq!(
        w.store
            .purge_finished(cutoff, 100, &NOTIFIED_EVENTS)
            .await
            .unwrap(),
        0
    );
    assert_eq!(w.store.purge_finished(cutoff, 100, &[]).await.unwrap(), 1);
    assert_eq!(
        w.store.pending(org.id).await.unwrap(),
        vec![not_fanned_out],
        "never before it is fanned out"
    );
}
