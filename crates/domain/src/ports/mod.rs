//! Ports: the traits through which the domain reaches the outside world.
//!
//! Adapters implement them (`store-sqlite`, `store-postgres`, the HTTP layer's clock); the
//! server wires them together as `Arc<dyn …>`. Each trait documents what an implementor must
//! guarantee. Every method that touches tenant data takes the [`OrganizationId`] and must never
//! return or change another organization's rows.
//!
//! Transactions: booking writes go through a unit of work ([`BookingStore::begin`] →
//! [`BookingTx`]) so that the slot engine re-decides availability, the booking row, its outbox
//! messages and its idempotency response all commit together — or not at all (dropping a
//! `BookingTx` without `commit` rolls back).

mod bookings;
mod clock;
mod directory;
mod event_types;
mod idempotency;
mod outbox;
mod rate_limit;
mod schedules;
mod tokens;
mod unavailable;

pub use bookings::*;
pub use clock::*;
pub use directory::*;
pub use event_types::*;
pub use idempotency::*;
pub use outbox::*;
pub use rate_limit::*;
pub use schedules::*;
pub use tokens::*;
pub use unavailable::*;

use async_trait::async_trait;

/// A storage failure the caller cannot act on: a 5xx. When the chain holds an
/// [`StoreUnavailable`] (see [`StoreError::unavailable_kind`]) it is transient: a 503 with
/// `Retry-After`, otherwise (a bug, corrupt data) a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why creating a row failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A uniqueness rule was broken; the message names the field (e.g. `slug`).
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an optimistic update failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("not found")]
    NotFound,
    /// The stored version differs from the expected one; nothing was written.
    #[error("version conflict")]
    VersionConflict,
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a delete failed.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("not found")]
    NotFound,
    /// Something still refers to the row (e.g. an event type uses this schedule).
    #[error("still in use: {0}")]
    InUse(String),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl From<StoreError> for CreateError {
    fn from(e: StoreError) -> Self {
        let StoreError::Unknown(e) = e;
        CreateError::Unknown(e)
    }
}

impl From<StoreError> for UpdateError {
    fn from(e: StoreError) -> Self {
        let StoreError::Unknown(e) = e;
        UpdateError::Unknown(e)
    }
}

/// Every store port in one object, as the server wires it.
#[async_trait]
pub trait Storage:
    DirectoryStore
    + ScheduleStore
    + EventTypeStore
    + BookingStore
    + IdempotencyStore
    + OutboxStore
    + TokenStore
    + crate::oauth::OAuthStore
    + crate::webhook::WebhookStore
    + crate::notification::NotificationStore
    + crate::booking_page::link::InviteeLinkStore
{
    /// `sqlite`, `postgres` or `memory`.
    fn backend(&self) -> &'static str;
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes the store's connections (at shutdown, after the last request); later calls
    /// fail. The default does nothing (stores without connections).
    async fn close(&self) {}
}
