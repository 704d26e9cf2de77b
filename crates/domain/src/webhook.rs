//! Webhook subscriptions and deliveries (§4): the model and its pure rules.
//!
//! A [`Webhook`] belongs to one credential's sandbox ([`owner_of`]): a PAT sees only what it
//! created, an OAuth client's subscriptions belong to its `client_id`. Each outbox message is
//! fanned out into one [`Delivery`] per matching active subscription ([`matches`]); a delivery
//! carries its own attempt state. [`after_attempt`] is the retry schedule (§4.5: 6 attempts at
//! 0, 1 min, 5 min, 30 min, 2 h, 12 h) and [`AUTO_PAUSE_AFTER`] the auto-pause rule. The
//! storage port for all of this is [`WebhookStore`]; the use cases are in
//! [`crate::webhook_service`].

use crate::access::{Credential, Principal};
use crate::ids::{OrganizationId, OutboxId};
use crate::pagination::{Page, PageRequest};
use crate::ports::{OutboxMessage, StoreError};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use uuid::Uuid;

macro_rules! webhook_id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

webhook_id_type!(
    /// A webhook subscription.
    WebhookId
);
webhook_id_type!(
    /// One delivery of one event to one subscription (`dlv_<uuid>` on the wire).
    DeliveryId
);

/// The events a subscription can name (§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    BookingCreated,
    BookingUpdated,
    BookingCanceled,
    BookingRescheduled,
    BookingNoShow,
    EventTypeUpdated,
    EventTypeDeleted,
    RoutingFormSubmitted,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 8] = [
        Self::BookingCreated,
        Self::BookingUpdated,
        Self::BookingCanceled,
        Self::BookingRescheduled,
        Self::BookingNoShow,
        Self::EventTypeUpdated,
        Self::EventTypeDeleted,
        Self::RoutingFormSubmitted,
    ];

    /// The REST (subscribe) name, with underscores.
    pub fn rest_name(&self) -> &'static str {
        match self {
            Self::BookingCreated => "booking_created",
            Self::BookingUpdated => "booking_updated",
            Self::BookingCanceled => "booking_canceled",
            Self::BookingRescheduled => "booking_rescheduled",
            Self::BookingNoShow => "booking_no_show",
            Self::EventTypeUpdated => "event_type_updated",
            Self::EventTypeDeleted => "event_type_deleted",
            Self::RoutingFormSubmitted => "routing_form_submitted",
        }
    }

    /// The delivery name (`event` field and `X-42min-Webhook-Event`), with a dot.
    pub fn delivery_name(&self) -> &'static str {
        match self {
            Self::BookingCreated => "booking.created",
            Self::BookingUpdated => "booking.updated",
            Self::BookingCanceled => "booking.canceled",
            Self::BookingRescheduled => "booking.rescheduled",
            Self::BookingNoShow => "booking.no_show",
            Self::EventTypeUpdated => "event_type.updated",
            Self::EventTypeDeleted => "event_type.deleted",
            Self::RoutingFormSubmitted => "routing.form_submitted",
        }
    }

    pub fn from_rest(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.rest_name() == name)
    }

    pub fn from_delivery(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.delivery_name() == name)
    }
}

/// The synthetic event `POST /v1/webhooks/{id}/test` sends (delivery name).
pub const TEST_EVENT: &str = "webhook.test";

/// The REST name of a delivery name (`booking.created` → `booking_created`; the test event
/// `webhook.test` → `webhook_test`).
pub fn rest_name_of(delivery_name: &str) -> String {
    match WebhookEvent::from_delivery(delivery_name) {
        Some(e) => e.rest_name().to_owned(),
        None => delivery_name.replace('.', "_"),
    }
}

/// Whether a subscription delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    Active,
    Paused,
}

impl WebhookStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "paused" => Some(Self::Paused),
            _ => None,
        }
    }
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub organization_id: OrganizationId,
    /// The credential sandbox it belongs to ([`owner_of`]).
    pub owner: String,
    pub url: String,
    /// At least one, no duplicates, in the order first given.
    pub events: Vec<WebhookEvent>,
    pub description: Option<String>,
    pub status: WebhookStatus,
    /// Why delivery stopped, when auto-paused (or paused by an operator).
    pub paused_reason: Option<String>,
    /// Deliveries exhausted in a row; reset by a success or an edit.
    pub consecutive_failures: u32,
    /// The `whsec_…` signing secret, sealed by a [`crate::webhook_service::SecretBox`].
    pub sealed_secret: Vec<u8>,
    pub last_delivery_at: Option<Timestamp>,
    pub last_delivery_ok: Option<bool>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The sandbox a principal's subscriptions live in: `pat:<token id>` (rotating or replacing
/// the PAT orphans them) or `oauth:<client id>` (shared by all of the client's tokens).
pub fn owner_of(p: &Principal) -> String {
    match &p.credential {
        Credential::Pat { token_id } => format!("pat:{token_id}"),
        Credential::OAuth { client_id } => format!("oauth:{client_id}"),
    }
}

/// True when `webhook` should receive the outbox event named `event` (a delivery name).
pub fn matches(webhook: &Webhook, event: &str) -> bool {
    webhook.status == WebhookStatus::Active
        && WebhookEvent::from_delivery(event).is_some_and(|e| webhook.events.contains(&e))
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt at `next_attempt_at`.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// Every attempt failed (or the test delivery's one attempt failed).
    Failed,
}

impl DeliveryState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub organization_id: OrganizationId,
    pub webhook_id: WebhookId,
    /// The outbox message: the envelope's `evt_<uuid>` id.
    pub event_id: OutboxId,
    /// Delivery (dot) name.
    pub event: String,
    /// The envelope's `createdAt`: when the change committed.
    pub event_created_at: Timestamp,
    /// The envelope's `data` JSON text.
    pub data: String,
    /// Attempts made so far (the next one is `attempts + 1`).
    pub attempts: u32,
    pub state: DeliveryState,
    /// When the next attempt is due (`None` once finished).
    pub next_attempt_at: Option<Timestamp>,
    /// Status of the last response (`None`: unreachable or not tried yet).
    pub status_code: Option<u16>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub delivered_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Delivery {
    /// The first delivery of `message` to `webhook`, due at once.
    pub fn first(
        id: DeliveryId,
        webhook: &Webhook,
        message: &OutboxMessage,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            organization_id: webhook.organization_id,
            webhook_id: webhook.id,
            event_id: message.id,
            event: message.event.clone(),
            event_created_at: message.created_at,
            data: message.payload.clone(),
            attempts: 0,
            state: DeliveryState::Pending,
            next_attempt_at: Some(now),
            status_code: None,
            error: None,
            delivered_at: None,
            last_attempt_at: None,
            created_at: now,
        }
    }

    /// The attempt number shown on the wire (1 on the first try).
    pub fn shown_attempt(&self) -> u32 {
        self.attempts.max(1)
    }
}

/// Delay before attempt n+1 (index n): the first at once, then 1 min, 5 min, 30 min, 2 h, 12 h.
pub const RETRY_SCHEDULE: [SignedDuration; 6] = [
    SignedDuration::ZERO,
    SignedDuration::from_mins(1),
    SignedDuration::from_mins(5),
    SignedDuration::from_mins(30),
    SignedDuration::from_hours(2),
    SignedDuration::from_hours(12),
];

/// Attempts per delivery.
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32;

/// A subscription pauses after this many consecutive exhausted deliveries.
pub const AUTO_PAUSE_AFTER: u32 = 5;

/// The `paused_reason` auto-pause sets.
pub const AUTO_PAUSE_REASON: &str =
    "paused automatically after 5 consecutive deliveries failed all 6 attempts";

/// What one attempt produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// A 2xx.
    Success { status: u16 },
    /// A non-2xx (`status`), a timeout or a connection error (`status: None`).
    Failure { status: Option<u16>, error: String },
}

/// What an attempt means for the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEffect {
    /// Delivered: the failure count resets.
    Delivered,
    /// Failed; another attempt is scheduled.
    Retry,
    /// The last attempt failed: the failure count grows and may pause the subscription.
    Exhausted,
    /// The one attempt of a test delivery: counts toward nothing.
    Test,
}

/// Applies an attempt's result to `d` at `now` and says what it means for the subscription.
/// `test` deliveries get one attempt.
pub fn after_attempt(
    d: &mut Delivery,
    result: &AttemptResult,
    now: Timestamp,
    test: bool,
) -> AttemptEffect {
    d.attempts += 1;
    d.last_attempt_at = Some(now);
    match result {
        AttemptResult::Success { status } => {
            d.state = DeliveryState::Delivered;
            d.status_code = Some(*status);
            d.error = None;
            d.delivered_at = Some(now);
            d.next_attempt_at = None;
            if test {
                AttemptEffect::Test
            } else {
                AttemptEffect::Delivered
            }
        }
        AttemptResult::Failure { status, error } => {
            d.status_code = *status;
            d.error = Some(error.clone());
            if test {
                d.state = DeliveryState::Failed;
                d.next_attempt_at = None;
                return AttemptEffect::Test;
            }
            match RETRY_SCHEDULE.get(d.attempts as usize) {
                Some(delay) if d.attempts < MAX_ATTEMPTS => {
                    d.next_attempt_at = Some(now.saturating_add(*delay).unwrap_or(now));
                    AttemptEffect::Retry
                }
                _ => {
                    d.state = DeliveryState::Failed;
                    d.next_attempt_at = None;
                    AttemptEffect::Exhausted
                }
            }
        }
    }
}

/// Storage of subscriptions and deliveries. Every method taking an [`OrganizationId`] touches
/// only that organization's rows; [`WebhookStore::claim_deliveries`] is the worker's
/// cross-tenant read.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;
    async fn get_webhook(
        &self,
        org: OrganizationId,
        id: WebhookId,
    ) -> Result<Option<Webhook>, StoreError>;
    /// Oldest first; only `owner`'s when given.
    async fn list_webhooks(
        &self,
        org: OrganizationId,
        owner: Option<&str>,
    ) -> Result<Vec<Webhook>, StoreError>;
    /// Writes every field of `webhook`; false when it does not exist.
    async fn update_webhook(&self, webhook: &Webhook) -> Result<bool, StoreError>;
    /// Deletes the subscription and its deliveries; false when it did not exist.
    async fn delete_webhook(&self, org: OrganizationId, id: WebhookId) -> Result<bool, StoreError>;
    /// In one transaction: inserts `deliveries` (skipping any whose (webhook, event) already
    /// has one, so a repeated fan-out adds nothing) and marks the outbox message done.
    async fn fan_out(
        &self,
        message: &OutboxMessage,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Inserts one delivery (the test endpoint's).
    async fn insert_delivery(&self, delivery: &Delivery) -> Result<(), StoreError>;
    /// Claims up to `max` pending deliveries due at `now` whose subscription is active and
    /// whose lease is free or expired, oldest due first, leasing them until `now + lease`.
    /// Concurrent claimers never receive the same delivery while its lease holds (Postgres:
    /// `FOR UPDATE SKIP LOCKED`).
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Stores an attempted delivery (releasing its lease) and applies `effect` to its
    /// subscription atomically: `Delivered` resets the failure count and records a good last
    /// delivery; `Retry` records a bad one; `Exhausted` also adds one failure and, when the
    /// count reaches `pause_after`, pauses an active subscription with `pause_reason`; `Test`
    /// only records the last delivery.
    async fn record_attempt(
        &self,
        delivery: &Delivery,
        effect: AttemptEffect,
        pause_after: u32,
        pause_reason: &str,
    ) -> Result<(), StoreError>;
    async fn get_delivery(
        &self,
        org: OrganizationId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;
    /// One subscription's deliveries, newest first (`created_at`, then id, descending).
    async fn list_deliveries(
        &self,
        org: OrganizationId,
        webhook: WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;
    /// Deletes at most `max` rows of each kind finished before `before`: deliveries delivered
    /// or failed (by creation), and outbox messages fanned out (`done`) before `before` —
    /// except messages whose event is in `notified` that the notification consumer has not
    /// handled yet (its cursor, not the webhook fan-out's). Returns how many were deleted.
    async fn purge_finished(
        &self,
        before: Timestamp,
        max: u32,
        notified: &[&str],
    ) -> Result<u64, StoreError>;
    /// Pending deliveries plus outbox messages not yet fanned out, over all organizations.
    async fn queue_depth(&self) -> Result<u64, StoreError>;
}

/// The cursor sort name of the deliveries list.
pub const DELIVERIES_SORT: &str = "created_at_desc";

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery {
            id: DeliveryId(Uuid::nil()),
            organization_id: OrganizationId(Uuid::nil()),
            webhook_id: WebhookId(Uuid::nil()),
            event_id: OutboxId(Uuid::nil()),
            event: "booking.created".into(),
            event_created_at: Timestamp::UNIX_EPOCH,
            data: "{}".into(),
            attempts: 0,
            state: DeliveryState::Pending,
            next_attempt_at: Some(Timestamp::UNIX_EPOCH),
            status_code: None,
            error: None,
            delivered_at: None,
            last_attempt_at: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_exhaust() {
        let mut d = delivery();
        let fail = AttemptResult::Failure {
            status: Some(500),
            error: "HTTP 500".into(),
        };
        let mut now = Timestamp::UNIX_EPOCH;
        let mut gaps = Vec::new();
        for n in 1..=5 {
            assert_eq!(
                after_attempt(&mut d, &fail, now, false),
                AttemptEffect::Retry,
                "{n}"
            );
            let next = d.next_attempt_at.unwrap();
            gaps.push(next.duration_since(now));
            now = next;
        }
        assert_eq!(gaps, RETRY_SCHEDULE[1..].to_vec());
        assert_eq!(
            after_attempt(&mut d, &fail, now, false),
            AttemptEffect::Exhausted
        );
        assert_eq!(d.state, DeliveryState::Failed);
        assert_eq!(d.attempts, 6);
        assert_eq!(d.next_attempt_at, None);
    }

    #[test]
    fn success_finishes_and_test_counts_for_nothing() {
        let mut d = delivery();
        let ok = AttemptResult::Success { status: 204 };
        assert_eq!(
            after_attempt(&mut d, &ok, Timestamp::UNIX_EPOCH, false),
            AttemptEffect::Delivered
        );
        assert_eq!(
            (d.state, d.status_code, d.attempts),
            (DeliveryState::Delivered, Some(204), 1)
        );
        let mut t = delivery();
        let fail = AttemptResult::Failure {
            status: None,
            error: "refused".into(),
        };
        assert_eq!(
            after_attempt(&mut t, &fail, Timestamp::UNIX_EPOCH, true),
            AttemptEffect::Test
        );
        assert_eq!(t.state, DeliveryState::Failed);
    }

    #[test]
    fn names_round_trip() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::from_rest(e.rest_name()), Some(e));
            assert_eq!(WebhookEvent::from_delivery(e.delivery_name()), Some(e));
            assert_eq!(rest_name_of(e.delivery_name()), e.rest_name());
        }
        assert_eq!(rest_name_of(TEST_EVENT), "webhook_test");
        assert_eq!(WebhookEvent::from_rest("booking.created"), None);
    }
}
