//! `WebhookService`: the webhook use cases (§4) — the management API's rules (the
//! per-credential sandbox, validation, secret rotation, the test delivery) and the delivery
//! worker's steps (fan-out of outbox messages into deliveries, attempts with the retry schedule
//! and auto-pause, retention).
//!
//! The machinery lives behind ports declared here: [`SecretBox`] (generates and seals signing
//! secrets), [`UrlGuard`] (the SSRF check of a target URL) and [`Deliverer`] (signs and sends
//! one attempt). The `webhooks` adapter crate implements all three.

use crate::access::Principal;
use crate::ids::OrganizationId;
use crate::pagination::{Page, PageRequest};
use crate::ports::{Clock, IdGen, OutboxStore, StoreError};
use crate::validate::{FieldErrors, max_chars};
use crate::webhook::*;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// Generates, seals and opens signing secrets (`whsec_` + base64 of 32 random bytes). The
/// HMAC of §4.4 is keyed by the secret string itself, so it is stored sealed (encrypted), not
/// hashed.
pub trait SecretBox: Send + Sync {
    fn generate(&self) -> Result<String, StoreError>;
    fn seal(&self, secret: &str) -> Result<Vec<u8>, StoreError>;
    fn open(&self, sealed: &[u8]) -> Result<String, StoreError>;
}

/// Decides whether a target URL may be registered: scheme, and every address it resolves to
/// must be public. `Err` carries a message a client can act on.
#[async_trait]
pub trait UrlGuard: Send + Sync {
    async fn check(&self, url: &str) -> Result<(), String>;
}

/// One attempt to hand over.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryTarget<'a> {
    pub url: &'a str,
    /// The `whsec_…` secret.
    pub secret: &'a str,
    pub delivery: &'a Delivery,
    /// The attempt number being made (1 on the first try).
    pub attempt: u32,
}

/// Signs and sends one attempt (checking the addresses it connects to again).
#[async_trait]
pub trait Deliverer: Send + Sync {
    async fn send(&self, target: DeliveryTarget<'_>) -> AttemptResult;
}

/// Most characters in a target URL.
pub const MAX_URL_CHARS: usize = 2000;
/// Most characters in a description.
pub const MAX_DESCRIPTION_CHARS: usize = 255;
/// How long a claimed delivery stays leased to its worker by default (longer than an attempt
/// can take). An attempt whose process died is made again once its lease has expired.
pub const DELIVERY_LEASE: SignedDuration = SignedDuration::from_secs(60);
/// The shortest delivery lease allowed: an attempt (10 s timeout) plus its bookkeeping must
/// finish inside the lease, or another process could make the same attempt.
pub const MIN_DELIVERY_LEASE: SignedDuration = SignedDuration::from_secs(15);
/// How long a claimed outbox message stays leased while it is fanned out.
pub const FAN_OUT_LEASE: SignedDuration = SignedDuration::from_secs(30);

/// A subscription to create.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Fields a PATCH may change (`None`: unchanged; `description: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub status: Option<String>,
}

/// Why a webhook use case failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Unknown id, another credential's subscription, or another organization's: one answer.
    #[error("Webhook not found")]
    NotFound,
    /// Dot event names were given (§4.2 → 400); carries every failing field.
    #[error("event names must use underscores")]
    DotNames(FieldErrors),
    /// Other invalid input; carries every failing field.
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        let StoreError::Unknown(e) = e;
        WebhookError::Unknown(e)
    }
}

/// What one pass of [`WebhookService::deliver_due`] did (for metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retried: u32,
    pub exhausted: u32,
    /// Commit-to-first-attempt delays of first attempts made.
    pub first_attempt_delays: Vec<SignedDuration>,
}

impl DeliveryReport {
    pub fn attempts(&self) -> u32 {
        self.delivered + self.retried + self.exhausted
    }
}

/// The webhook use cases over their ports.
#[derive(Clone)]
pub struct WebhookService {
    pub store: Arc<dyn WebhookStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    pub secrets: Arc<dyn SecretBox>,
    pub guard: Arc<dyn UrlGuard>,
    pub deliverer: Arc<dyn Deliverer>,
    /// How long a claimed delivery is leased ([`DELIVERY_LEASE`] unless configured; at least
    /// [`MIN_DELIVERY_LEASE`]).
    pub delivery_lease: SignedDuration,
}

/// Normalises and checks event names: at least one, REST names only; dot names are reported
/// apart (400). Duplicates collapse, first order kept.
fn parse_events(
    names: &[String],
    dots: &mut FieldErrors,
    errors: &mut FieldErrors,
) -> Vec<WebhookEvent> {
    if names.is_empty() {
        errors.push(
            "events",
            "must name at least one event, e.g. [\"booking_created\"]",
        );
    }
    let mut out = Vec::new();
    for name in names {
        match WebhookEvent::from_rest(name) {
            Some(e) => {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
            None if WebhookEvent::from_delivery(name).is_some() || name.contains('.') => dots.push(
                "events",
                format!(
                    "'{name}' is a delivery name; subscribe with underscore names such as '{}'",
                    rest_name_of(name)
                ),
            ),
            None => {
                let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.rest_name()).collect();
                errors.push(
                    "events",
                    format!("unknown event '{name}'; known events: {}", known.join(", ")),
                )
            }
        }
    }
    out
}

impl WebhookService {
    async fn check_url(&self, url: &str, errors: &mut FieldErrors) {
        if url.trim().is_empty() {
            errors.push("url", "is required: an https:// URL with a public address");
        } else if url.chars().count() > MAX_URL_CHARS {
            errors.push("url", format!("must be at most {MAX_URL_CHARS} characters"));
        } else if let Err(m) = self.guard.check(url).await {
            errors.push("url", m);
        }
    }

    fn finish(dots: FieldErrors, mut errors: FieldErrors) -> Result<(), WebhookError> {
        if !dots.is_empty() {
            let mut all = dots;
            all.0.append(&mut errors.0);
            return Err(WebhookError::DotNames(all));
        }
        errors.finish(()).map_err(WebhookError::Invalid)
    }

    /// A subscription in the caller's sandbox, or `NotFound`.
    async fn owned(&self, p: &Principal, id: WebhookId) -> Result<Webhook, WebhookError> {
        match self.store.get_webhook(p.organization_id, id).await? {
            Some(w) if w.owner == owner_of(p) => Ok(w),
            _ => Err(WebhookError::NotFound),
        }
    }

    /// The caller's subscriptions, oldest first.
    pub async fn list(&self, p: &Principal) -> Result<Vec<Webhook>, WebhookError> {
        Ok(self
            .store
            .list_webhooks(p.organization_id, Some(&owner_of(p)))
            .await?)
    }

    /// Creates a subscription in the caller's sandbox; returns it and its new secret (shown
    /// only now). Not idempotent: the same URL twice makes two subscriptions.
    pub async fn register(
        &self,
        p: &Principal,
        input: NewWebhook,
    ) -> Result<(Webhook, String), WebhookError> {
        let (mut dots, mut errors) = (FieldErrors::default(), FieldErrors::default());
        self.check_url(&input.url, &mut errors).await;
        let events = parse_events(&input.events, &mut dots, &mut errors);
        if let Some(d) = &input.description {
            max_chars(&mut errors, "description", d, MAX_DESCRIPTION_CHARS);
        }
        Self::finish(dots, errors)?;
        let secret = self.secrets.generate()?;
        let now = self.clock.now();
        let w = Webhook {
            id: WebhookId(self.ids.new_id()),
            organization_id: p.organization_id,
            owner: owner_of(p),
            url: input.url,
            events,
            description: input.description,
            status: WebhookStatus::Active,
            paused_reason: None,
            consecutive_failures: 0,
            sealed_secret: self.secrets.seal(&secret)?,
            last_delivery_at: None,
            last_delivery_ok: None,
            created_at: now,
            updated_at: now,
        };
        self.store.create_webhook(&w).await?;
        Ok((w, secret))
    }

    pub async fn get(&self, p: &Principal, id: WebhookId) -> Result<Webhook, WebhookError> {
        self.owned(p, id).await
    }

    /// Applies a PATCH. Any edit resets the failure count; `status: active` also clears
    /// `paused_reason`.
    pub async fn update(
        &self,
        p: &Principal,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> Result<Webhook, WebhookError> {
        let mut w = self.owned(p, id).await?;
        let (mut dots, mut errors) = (FieldErrors::default(), FieldErrors::default());
        if let Some(url) = &patch.url {
            self.check_url(url, &mut errors).await;
        }
        let events = patch
            .events
            .as_ref()
            .map(|names| parse_events(names, &mut dots, &mut errors));
        if let Some(Some(d)) = &patch.description {
            max_chars(&mut errors, "description", d, MAX_DESCRIPTION_CHARS);
        }
        let status = match patch.status.as_deref() {
            None => None,
            Some(s) => match WebhookStatus::parse(s) {
                Some(s) => Some(s),
                None => {
                    errors.push("status", format!("must be 'active' or 'paused'; got '{s}'"));
                    None
                }
            },
        };
        Self::finish(dots, errors)?;
        if let Some(url) = patch.url {
            w.url = url;
        }
        if let Some(events) = events {
            w.events = events;
        }
        if let Some(d) = patch.description {
            w.description = d;
        }
        if let Some(s) = status {
            w.status = s;
            if s == WebhookStatus::Active {
                w.paused_reason = None;
            }
        }
        w.consecutive_failures = 0;
        w.updated_at = self.clock.now();
        if !self.store.update_webhook(&w).await? {
            return Err(WebhookError::NotFound);
        }
        Ok(w)
    }

    /// Deletes a subscription of the caller's (and its deliveries).
    pub async fn delete(&self, p: &Principal, id: WebhookId) -> Result<(), WebhookError> {
        self.owned(p, id).await?;
        if self.store.delete_webhook(p.organization_id, id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Replaces the secret; the old one stops signing at once.
    pub async fn rotate_secret(
        &self,
        p: &Principal,
        id: WebhookId,
    ) -> Result<(Webhook, String), WebhookError> {
        let mut w = self.owned(p, id).await?;
        let secret = self.secrets.generate()?;
        w.sealed_secret = self.secrets.seal(&secret)?;
        w.updated_at = self.clock.now();
        if !self.store.update_webhook(&w).await? {
            return Err(WebhookError::NotFound);
        }
        Ok((w, secret))
    }

    /// Sends the synthetic `webhook.test` event now (one attempt, counting toward neither the
    /// failure count nor its reset) and returns the delivery.
    pub async fn test(&self, p: &Principal, id: WebhookId) -> Result<Delivery, WebhookError> {
        let w = self.owned(p, id).await?;
        let now = self.clock.now();
        let event_id = crate::ids::OutboxId(self.ids.new_id());
        let mut d = Delivery {
            id: DeliveryId(self.ids.new_id()),
            organization_id: w.organization_id,
            webhook_id: w.id,
            event_id,
            event: TEST_EVENT.to_owned(),
            event_created_at: now,
            data: format!("{{\"test\":true,\"webhookId\":\"{}\"}}", w.id),
            attempts: 0,
            state: DeliveryState::Pending,
            next_attempt_at: None,
            status_code: None,
            error: None,
            delivered_at: None,
            last_attempt_at: None,
            created_at: now,
        };
        self.store.insert_delivery(&d).await?;
        let secret = self.secrets.open(&w.sealed_secret)?;
        let result = self
            .deliverer
            .send(DeliveryTarget {
                url: &w.url,
                secret: &secret,
                delivery: &d,
                attempt: 1,
            })
            .await;
        let effect = after_attempt(&mut d, &result, self.clock.now(), true);
        self.store
            .record_attempt(&d, effect, AUTO_PAUSE_AFTER, AUTO_PAUSE_REASON)
            .await?;
        Ok(d)
    }

    /// One subscription's deliveries, newest first.
    pub async fn deliveries(
        &self,
        p: &Principal,
        id: WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, WebhookError> {
        self.owned(p, id).await?;
        Ok(self
            .store
            .list_deliveries(p.organization_id, id, page)
            .await?)
    }

    /// Every subscription of an organization (operators, not the API).
    pub async fn list_all(&self, org: OrganizationId) -> Result<Vec<Webhook>, WebhookError> {
        Ok(self.store.list_webhooks(org, None).await?)
    }

    /// Pauses (with `reason`) or resumes a subscription as an operator. Resuming resets the
    /// failure count.
    pub async fn set_status(
        &self,
        org: OrganizationId,
        id: WebhookId,
        status: WebhookStatus,
        reason: Option<String>,
    ) -> Result<Webhook, WebhookError> {
        let mut w = self
            .store
            .get_webhook(org, id)
            .await?
            .ok_or(WebhookError::NotFound)?;
        w.status = status;
        w.paused_reason = match status {
            WebhookStatus::Active => None,
            WebhookStatus::Paused => reason,
        };
        w.consecutive_failures = 0;
        w.updated_at = self.clock.now();
        if !self.store.update_webhook(&w).await? {
            return Err(WebhookError::NotFound);
        }
        Ok(w)
    }

    /// Fans out up to `max` outbox messages: one delivery per matching active subscription of
    /// the message's organization, committed together with the message's `done` mark. Returns
    /// how many messages were handled.
    pub async fn fan_out(&self, max: u32) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let messages = self.outbox.claim(now, FAN_OUT_LEASE, max).await?;
        let mut subscriptions: Vec<(OrganizationId, Vec<Webhook>)> = Vec::new();
        for m in &messages {
            let subs = match subscriptions.iter().find(|(o, _)| *o == m.organization_id) {
                Some((_, s)) => s,
                None => {
                    let s = self.store.list_webhooks(m.organization_id, None).await?;
                    subscriptions.push((m.organization_id, s));
                    match subscriptions.last() {
                        Some((_, s)) => s,
                        None => continue,
                    }
                }
            };
            let deliveries: Vec<Delivery> = subs
                .iter()
                .filter(|w| matches(w, &m.event))
                .map(|w| Delivery::first(DeliveryId(self.ids.new_id()), w, m, now))
                .collect();
            self.store.fan_out(m, &deliveries, now).await?;
        }
        Ok(messages.len())
    }

    /// Makes the attempts due now (up to `max`): reads each subscription of the claimed batch
    /// once, sends the batch's attempts concurrently, then records each (in claim order) with
    /// its effect on the subscription.
    pub async fn deliver_due(&self, max: u32) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_deliveries(now, self.delivery_lease.max(MIN_DELIVERY_LEASE), max)
            .await?;
        let mut report = DeliveryReport::default();
        // The batch's subscriptions, each read and its secret opened once.
        let mut hooks: Vec<(WebhookId, Webhook, String)> = Vec::new();
        for d in &claimed {
            if hooks.iter().any(|(id, _, _)| *id == d.webhook_id) {
                continue;
            }
            if let Some(w) = self
                .store
                .get_webhook(d.organization_id, d.webhook_id)
                .await?
            {
                let secret = self.secrets.open(&w.sealed_secret)?;
                hooks.push((w.id, w, secret));
            }
        }
        let sends = claimed.iter().filter_map(|d| {
            let (_, w, secret) = hooks.iter().find(|(id, _, _)| *id == d.webhook_id)?;
            let attempt = d.attempts + 1;
            Some(async move {
                let result = self
                    .deliverer
                    .send(DeliveryTarget {
                        url: &w.url,
                        secret,
                        delivery: d,
                        attempt,
                    })
                    .await;
                (d.clone(), attempt, result, self.clock.now())
            })
        });
        let results = futures::future::join_all(sends).await;
        for (mut d, attempt, result, at) in results {
            if attempt == 1 {
                report
                    .first_attempt_delays
                    .push(at.duration_since(d.event_created_at));
            }
            let effect = after_attempt(&mut d, &result, at, false);
            match effect {
                AttemptEffect::Delivered => report.delivered += 1,
                AttemptEffect::Retry => report.retried += 1,
                AttemptEffect::Exhausted => report.exhausted += 1,
                AttemptEffect::Test => {}
            }
            self.store
                .record_attempt(&d, effect, AUTO_PAUSE_AFTER, AUTO_PAUSE_REASON)
                .await?;
        }
        Ok(report)
    }

    /// Fans out and delivers until nothing is due at the clock's current instant (bounded):
    /// the synchronous drain tests and `slotbook worker` passes use.
    pub async fn drain(&self) -> Result<DeliveryReport, StoreError> {
        let mut total = DeliveryReport::default();
        for _ in 0..10_000 {
            let fanned = self.fan_out(100).await?;
            let r = self.deliver_due(100).await?;
            let did = fanned as u32 + r.attempts();
            total.delivered += r.delivered;
            total.retried += r.retried;
            total.exhausted += r.exhausted;
            total.first_attempt_delays.extend(r.first_attempt_delays);
            if did == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// Deletes up to `max` finished deliveries and done outbox messages older than `keep`.
    /// With `notifications` on, a message that sends e-mail
    /// ([`NOTIFIED_EVENTS`](crate::notification::NOTIFIED_EVENTS)) stays until the
    /// notification consumer has handled it too.
    pub async fn purge(
        &self,
        keep: SignedDuration,
        max: u32,
        notifications: bool,
    ) -> Result<u64, StoreError> {
        let before = self
            .clock
            .now()
            .checked_sub(keep)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let notified: &[&str] = if notifications {
            &crate::notification::NOTIFIED_EVENTS
        } else {
            &[]
        };
        self.store.purge_finished(before, max, notified).await
    }
}
