//! The rows: one ordered map per table, keyed by (organization, id) like the SQL stores'
//! primary keys, so a tenant's rows are one contiguous range.

use domain::availability::Schedule;
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::ids::*;
use domain::organization::{Organization, User};
use domain::ports::{IdempotencyKey, OutboxMessage, PersonalAccessToken, ReplayRecord};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// A booking as stored: the row and its seat flag (a seat of a group slot may share its
/// interval with the other seats of that slot).
#[derive(Debug, Clone)]
pub(crate) struct StoredBooking {
    pub booking: Booking,
    pub shares_seats: bool,
}

/// One idempotency key: its body fingerprint, the response once completed, when it was taken.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyRecord {
    pub fingerprint: String,
    pub response: Option<ReplayRecord>,
    pub created_at: Timestamp,
    /// The nonce of the reservation (see `domain::ports::ReservationNonce`).
    pub nonce: Option<domain::ports::ReservationNonce>,
}

/// One outbox message and its delivery state.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub message: OutboxMessage,
    pub lease_until: Option<Timestamp>,
    pub done_at: Option<Timestamp>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// OAuth clients, codes, families and tokens.
    pub oauth: crate::oauth::OAuthState,
    pub orgs: BTreeMap<OrganizationId, Organization>,
    pub users: BTreeMap<(OrganizationId, UserId), User>,
    pub schedules: BTreeMap<(OrganizationId, ScheduleId), Schedule>,
    pub event_types: BTreeMap<(OrganizationId, EventTypeId), EventType>,
    pub bookings: BTreeMap<(OrganizationId, BookingUid), StoredBooking>,
    pub idempotency: HashMap<IdempotencyKey, IdempotencyRecord>,
    pub outbox: BTreeMap<(OrganizationId, OutboxId), OutboxRow>,
    pub pats: BTreeMap<(OrganizationId, TokenId), PersonalAccessToken>,
    /// Invitee self-service links, one per booking.
    pub invitee_links:
        BTreeMap<(OrganizationId, BookingUid), domain::booking_page::link::InviteeLink>,
    pub webhooks: BTreeMap<(OrganizationId, domain::webhook::WebhookId), domain::webhook::Webhook>,
    /// Deliveries and their leases.
    pub deliveries: BTreeMap<
        (OrganizationId, domain::webhook::DeliveryId),
        (domain::webhook::Delivery, Option<Timestamp>),
    >,
    /// The notification consumer's outbox cursor: (lease, handled) per message.
    pub notify_cursor: HashMap<(OrganizationId, OutboxId), (Option<Timestamp>, Option<Timestamp>)>,
    /// Notifications and their leases.
    pub notifications: BTreeMap<
        (OrganizationId, domain::notification::NotificationId),
        (domain::notification::Notification, Option<Timestamp>),
    >,
    /// bucket → window start → hits (only the newest windows are kept).
    pub rate_limits: HashMap<String, BTreeMap<i64, u64>>,
}

/// The key range of one organization's rows in a map keyed by `(OrganizationId, id)`.
pub(crate) fn tenant<I: From<Uuid>>(org: OrganizationId) -> RangeInclusive<(OrganizationId, I)> {
    (org, I::from(Uuid::nil()))..=(org, I::from(Uuid::max()))
}

/// An instant as the SQL stores compare and sort it: epoch milliseconds.
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}
