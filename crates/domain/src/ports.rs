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

use crate::access::ScopeSet;
use crate::availability::Schedule;
use crate::booking::{Booking, BookingStatus};
use crate::event_type::EventType;
use crate::ids::*;
use crate::interval::Interval;
use crate::organization::{Organization, User};
use crate::pagination::{Page, PageRequest};
use crate::slots::SlotInputs;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// The current instant. Production reads the system clock; tests use a settable clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// New identifiers. Production generates UUIDv7 (time-ordered, §6.1.11).
pub trait IdGen: Send + Sync {
    fn new_id(&self) -> Uuid;
}

/// A storage failure the caller cannot act on (connection lost, bug): a 5xx.
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

/// Organizations and users.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn create_organization(&self, org: &Organization) -> Result<(), CreateError>;
    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError>;
    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError>;
    /// Usernames are unique across the deployment (they form public URLs); e-mail addresses are
    /// unique per organization, case-insensitively. Violations → `Duplicate { field }`.
    async fn create_user(&self, user: &User) -> Result<(), CreateError>;
    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>, StoreError>;
    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Users of one organization, oldest first.
    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>, StoreError>;
    /// Returns false when the user does not exist in `org`.
    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> Result<bool, StoreError>;
}

/// Availability schedules.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    async fn create_schedule(&self, schedule: &Schedule) -> Result<(), CreateError>;
    async fn get_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError>;
    /// Oldest first; optionally only one user's.
    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError>;
    /// Writes `schedule` (whose `version` is already bumped) only if the stored version equals
    /// `expected_version`.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: i64,
    ) -> Result<(), UpdateError>;
    /// Refuses with `InUse` while an event type names the schedule for a host.
    async fn delete_schedule(&self, org: OrganizationId, id: ScheduleId)
    -> Result<(), DeleteError>;
}

/// Sort orders of `GET /v1/event-types`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EventTypeSort {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    TitleAsc,
}

impl EventTypeSort {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CreatedAtDesc => "created_at_desc",
            Self::CreatedAtAsc => "created_at_asc",
            Self::TitleAsc => "title_asc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::CreatedAtDesc, Self::CreatedAtAsc, Self::TitleAsc]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Filters of `GET /v1/event-types`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypeQuery {
    /// Event types owned by or hosted by this user.
    pub user_id: Option<UserId>,
    pub slug: Option<String>,
    pub active: Option<bool>,
    pub sort: EventTypeSort,
    pub page: PageRequest,
}

/// Event types.
#[async_trait]
pub trait EventTypeStore: Send + Sync {
    /// Slugs are unique per owner → `Duplicate { field: "slug" }`.
    async fn create_event_type(&self, event_type: &EventType) -> Result<(), CreateError>;
    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>, StoreError>;
    /// By the owner's username and the slug.
    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>, StoreError>;
    async fn list_event_types(
        &self,
        org: OrganizationId,
        query: &EventTypeQuery,
    ) -> Result<Page<EventType>, StoreError>;
    /// Optimistic update; `outbox` messages commit in the same transaction.
    async fn update_event_type(
        &self,
        event_type: &EventType,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError>;
    /// Deletes the event type (its bookings stay); `outbox` commits in the same transaction.
    /// `InUse` while bookings reference it and still hold time.
    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> Result<(), DeleteError>;
}

/// Sort orders of `GET /v1/bookings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BookingSort {
    #[default]
    StartAtDesc,
    StartAtAsc,
    CreatedAtDesc,
    CreatedAtAsc,
    UpdatedAtAsc,
    UpdatedAtDesc,
}

impl BookingSort {
    pub const ALL: [BookingSort; 6] = [
        Self::StartAtDesc,
        Self::StartAtAsc,
        Self::CreatedAtDesc,
        Self::CreatedAtAsc,
        Self::UpdatedAtAsc,
        Self::UpdatedAtDesc,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::StartAtDesc => "start_at_desc",
            Self::StartAtAsc => "start_at_asc",
            Self::CreatedAtDesc => "created_at_desc",
            Self::CreatedAtAsc => "created_at_asc",
            Self::UpdatedAtAsc => "updated_at_asc",
            Self::UpdatedAtDesc => "updated_at_desc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Filters of `GET /v1/bookings` (§3.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingQuery {
    pub event_type_id: Option<EventTypeId>,
    /// Any of these hosts; empty = all.
    pub host_user_ids: Vec<UserId>,
    /// Exact, case-sensitive match on any attendee's e-mail.
    pub attendee_email: Option<String>,
    /// Any of these statuses; empty = all (subject to `include_cancelled`).
    pub statuses: Vec<BookingStatus>,
    /// Inclusive lower bound on `start`.
    pub start_from: Option<Timestamp>,
    /// Inclusive upper bound on `start` (§6.1.9).
    pub start_to: Option<Timestamp>,
    /// `updated_at >= updated_since`.
    pub updated_since: Option<Timestamp>,
    /// Only used when `statuses` is empty: false excludes canceled bookings.
    pub include_cancelled: bool,
    pub sort: BookingSort,
    pub page: PageRequest,
}

/// Why a booking write could not start or a booking row could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BookingWriteError {
    /// Another booking of the host holds overlapping time (constraint `bookings_no_overlap`).
    #[error("That time is no longer available")]
    SlotUnavailable,
    /// The slot lock could not be taken in time; transient, retry with the same key.
    #[error("could not take the slot lock in time")]
    LockTimeout,
    /// The booking changed since it was read (`version` differs).
    #[error("version conflict")]
    VersionConflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl From<StoreError> for BookingWriteError {
    fn from(e: StoreError) -> Self {
        let StoreError::Unknown(e) = e;
        BookingWriteError::Unknown(e)
    }
}

/// Bookings.
#[async_trait]
pub trait BookingStore: Send + Sync {
    async fn get_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<Booking>, StoreError>;
    async fn list_bookings(
        &self,
        org: OrganizationId,
        query: &BookingQuery,
    ) -> Result<Page<Booking>, StoreError>;
    /// Everything the slot engine needs to decide `window` for `event_type` (see
    /// [`crate::slots::input_ranges`]): the hosts' schedules, their busy blocks and the event
    /// type's counted bookings. A read outside any transaction.
    async fn slot_inputs(
        &self,
        event_type: &EventType,
        window: Interval,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError>;
    /// Opens a booking write for one organization. The implementation serialises writers so
    /// that what [`BookingTx::slot_inputs`] returns stays true until commit for this event type
    /// (SQLite: `BEGIN IMMEDIATE`; Postgres: a transaction-scoped advisory lock on the event type)
    /// and guarantees that no two time-holding bookings of one host overlap across event types
    /// (Postgres: exclusion constraint; SQLite: the overlap check in `insert_booking`).
    async fn begin(
        &self,
        org: OrganizationId,
        event_type: EventTypeId,
    ) -> Result<Box<dyn BookingTx>, BookingWriteError>;
}

/// One booking write in progress. Dropping it without [`BookingTx::commit`] rolls everything back.
#[async_trait]
pub trait BookingTx: Send {
    /// As [`BookingStore::slot_inputs`], inside this transaction (sees its own writes).
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        window: Interval,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError>;
    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>, StoreError>;
    /// Inserts a booking. Fails with `SlotUnavailable` when a time-holding booking of the same
    /// host overlaps `booking.blocked`, except seats of the same group slot (same event type and
    /// start) when `shares_seats` is true.
    async fn insert_booking(
        &mut self,
        booking: &Booking,
        shares_seats: bool,
    ) -> Result<(), BookingWriteError>;
    /// Writes `booking` (version already bumped) only if the stored version is
    /// `expected_version`, else `VersionConflict`.
    async fn update_booking(
        &mut self,
        booking: &Booking,
        expected_version: i64,
    ) -> Result<(), BookingWriteError>;
    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError>;
    /// Stores the response of a reserved idempotency key in this transaction.
    async fn complete_idempotency(
        &mut self,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// An idempotency key in its scope: (account, credential owner, key) (§6.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    pub organization_id: OrganizationId,
    /// [`crate::access::Principal::owner_key`].
    pub owner: String,
    /// Caller-chosen, 1–255 characters.
    pub key: String,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// Headers to replay (e.g. `ETag`); names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL: SignedDuration = SignedDuration::from_hours(24);
/// After this long an unfinished reservation is considered abandoned (its process died) and may
/// be taken over.
pub const IDEMPOTENCY_IN_PROGRESS_LEASE: SignedDuration = SignedDuration::from_mins(5);

/// Outcome of reserving a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The caller owns the key now and must `complete` or `release` it.
    Reserved,
    /// Same key and body completed before: replay this.
    Replay(StoredResponse),
    /// Same key still executing.
    InProgress,
    /// Same key, different body fingerprint.
    Mismatch,
}

/// Idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically reserves `key` for a request whose canonical body hashes to `fingerprint`.
    /// Records older than [`IDEMPOTENCY_TTL`] (by `now`) count as absent, and so do
    /// reservations left unfinished for longer than [`IDEMPOTENCY_IN_PROGRESS_LEASE`].
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<Reservation, StoreError>;
    /// Stores the response outside a booking transaction.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
    /// Forgets an unfinished reservation so the key can be retried (the first attempt failed).
    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError>;
    /// Deletes up to `max` records taken before `before` (done or not), oldest first; returns
    /// how many. Retention: callers pass `now - IDEMPOTENCY_TTL`, so only records that already
    /// count as absent go.
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError>;
}

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

/// A personal access token as stored: never the secret, only its peppered HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    /// Unique per organization, case-insensitively.
    pub name: String,
    /// The public 12-character lookup id; unique across the deployment.
    pub lookup: String,
    /// HMAC-SHA256(pepper, secret).
    pub secret_hash: Vec<u8>,
    pub scopes: ScopeSet,
    /// Last four characters of the secret, for display.
    pub last_four: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// At most this many active (unrevoked, unexpired) tokens per organization.
pub const MAX_ACTIVE_PATS: u32 = 42;

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreatePatError {
    #[error("the account already has {MAX_ACTIVE_PATS} active tokens; revoke one first")]
    TooManyActive,
    #[error("a token with this name already exists")]
    NameTaken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Personal access tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Inserts atomically with the check that fewer than [`MAX_ACTIVE_PATS`] tokens of the
    /// organization are active at `now`.
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> Result<(), CreatePatError>;
    /// By public lookup id. The one cross-tenant read: the token names its own organization.
    async fn find_pat_by_lookup(
        &self,
        lookup: &str,
    ) -> Result<Option<PersonalAccessToken>, StoreError>;
    /// Oldest first; optionally one user's.
    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError>;
    /// Returns false when no unrevoked token `id` exists in `org`.
    async fn revoke_pat(
        &self,
        org: OrganizationId,
        id: TokenId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// Fixed-window request counters shared by several server processes.
#[async_trait]
pub trait RateLimitCounter: Send + Sync {
    /// Adds one hit to `bucket` in the window starting at `window_start` (epoch seconds) and
    /// returns the window's count including this hit.
    async fn hit(&self, bucket: &str, window_start: i64) -> Result<u64, StoreError>;
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
{
    /// `sqlite`, `postgres` or `memory`.
    fn backend(&self) -> &'static str;
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
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

/// Sends notifications (confirmation e-mails). Implementations are fed from the outbox and must
/// be idempotent per outbox message id: a message may be handed over more than once.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn notify(&self, message: &OutboxMessage) -> Result<(), StoreError>;
}
