//! The transactional outbox and the domain events it carries.

use super::StoreError;
use crate::booking::Booking;
use crate::event_type::EventType;
use crate::ids::*;
use crate::organization::User;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

/// A domain event waiting to be delivered (webhooks, notifications), written in the same
/// transaction as the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub organization_id: OrganizationId,
    /// Dot name, e.g. `booking.created`.
    pub event: String,
    /// The JSON payload (camelCase webhook envelope `data`), rendered by an [`EventEncoder`].
    pub payload: String,
    pub created_at: Timestamp,
}

/// The transactional outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues outside a booking transaction.
    async fn enqueue(&self, message: &OutboxMessage) -> Result<(), StoreError>;
    /// Claims up to `max` undelivered messages whose lease is free or expired, oldest first,
    /// leasing them until `now + lease`. Concurrent claimers never receive the same message
    /// while its lease holds (Postgres: `FOR UPDATE SKIP LOCKED`).
    async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Marks a claimed message as handled; it is never claimed again.
    async fn mark_done(
        &self,
        org: OrganizationId,
        id: OutboxId,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Messages of one organization not yet marked done, oldest first.
    async fn pending(&self, org: OrganizationId) -> Result<Vec<OutboxMessage>, StoreError>;
}

/// A domain event to be rendered into an outbox payload.
#[derive(Debug, Clone)]
pub enum DomainEvent<'a> {
    BookingCreated {
        booking: &'a Booking,
        event_type: &'a EventType,
        host: Option<&'a User>,
    },
    BookingUpdated {
        booking: &'a Booking,
        event_type: &'a EventType,
        host: Option<&'a User>,
        changed_fields: &'a [&'static str],
    },
    BookingCanceled {
        booking: &'a Booking,
        event_type: &'a EventType,
        host: Option<&'a User>,
    },
    BookingRescheduled {
        booking: &'a Booking,
        previous: &'a Booking,
        event_type: &'a EventType,
        host: Option<&'a User>,
    },
    EventTypeUpdated {
        event_type: &'a EventType,
        /// The users the event type names (owner and hosts).
        hosts: &'a [User],
        /// IANA zone of the first host's schedule (the detail shape's `timezone`).
        timezone: Option<&'a str>,
    },
    EventTypeDeleted {
        event_type: &'a EventType,
        /// The users the event type names (owner and hosts).
        hosts: &'a [User],
        /// IANA zone of the first host's schedule (the detail shape's `timezone`).
        timezone: Option<&'a str>,
    },
}

impl DomainEvent<'_> {
    /// The delivery (dot) name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BookingCreated { .. } => "booking.created",
            Self::BookingUpdated { .. } => "booking.updated",
            Self::BookingCanceled { .. } => "booking.canceled",
            Self::BookingRescheduled { .. } => "booking.rescheduled",
            Self::EventTypeUpdated { .. } => "event_type.updated",
            Self::EventTypeDeleted { .. } => "event_type.deleted",
        }
    }
}

/// Renders domain events into outbox payloads (the wire format lives outside the domain).
pub trait EventEncoder: Send + Sync {
    /// The JSON text of the webhook envelope's `data` for this event.
    fn encode(&self, event: &DomainEvent<'_>) -> String;
}
