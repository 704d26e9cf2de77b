//! A fault injector: a [`Storage`] that delegates everything to a real store except one step of
//! every [`BookingTx`], which fails (used to prove that a failure after the booking insert leaves
//! nothing behind), or [`BookingStore::begin`], which stalls until a test lets it go (a request
//! held mid-write, after its idempotency reservation).

use async_trait::async_trait;
use domain::availability::Schedule;
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::ids::*;
use domain::organization::{Organization, User};
use domain::pagination::Page;
use domain::ports::*;
use domain::slots::{InputRanges, SlotInputs};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// Which step of a booking transaction fails.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `BookingTx::enqueue` (after the booking row is written).
    Enqueue,
    /// `BookingTx::complete_idempotency` (after the booking and its outbox message).
    CompleteIdempotency,
    /// `BookingStore::begin` waits until [`Stall::open`]; nothing fails.
    Stall(Arc<Stall>),
    /// Nothing fails; every token read (`find_pat_by_lookup`, OAuth `find_token`) adds one to
    /// the counter (to prove that a request was refused before any lookup).
    CountTokenReads(Arc<std::sync::atomic::AtomicU64>),
}

/// Holds every booking write at `begin` until opened, and tells when one arrived there.
#[derive(Debug)]
pub struct Stall {
    entered: tokio::sync::Notify,
    gate: tokio::sync::Semaphore,
}

impl Stall {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            entered: tokio::sync::Notify::new(),
            gate: tokio::sync::Semaphore::new(0),
        })
    }

    /// Waits until a booking write reached `begin` (or one did since the last call).
    pub async fn entered(&self) {
        self.entered.notified().await;
    }

    /// Lets every held and later `begin` through.
    pub fn open(&self) {
        self.gate.close();
    }

    /// Lets one held (or the next) `begin` through: the one that arrived first.
    pub fn let_one(&self) {
        self.gate.add_permits(1);
    }

    async fn hold(&self) {
        self.entered.notify_one();
        // Closed = open. A permit from `let_one` is used up (the gate is fair: first come,
        // first through).
        if let Ok(permit) = self.gate.acquire().await {
            permit.forget();
        }
    }
}

/// A store whose booking transactions fail at [`Fault`].
pub struct FaultyStore {
    pub inner: Arc<dyn Storage>,
    pub fault: Fault,
}

impl FaultyStore {
    fn count_token_read(&self) {
        if let Fault::CountTokenReads(n) = &self.fault {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

fn injected() -> StoreError {
    StoreError::Unknown(anyhow::anyhow!("injected fault"))
}

struct FaultyTx {
    inner: Box<dyn BookingTx>,
    fault: Fault,
}

#[async_trait]
impl BookingTx for FaultyTx {
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        self.inner.slot_inputs(event_type, ranges, now).await
    }
    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>, StoreError> {
        self.inner.get_booking(uid).await
    }
    async fn insert_booking(&mut self, b: &Booking, shares: bool) -> Result<(), BookingWriteError> {
        self.inner.insert_booking(b, shares).await
    }
    async fn update_booking(
        &mut self,
        b: &Booking,
        expected: i64,
    ) -> Result<(), BookingWriteError> {
        self.inner.update_booking(b, expected).await
    }
    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError> {
        if matches!(self.fault, Fault::Enqueue) {
            // Write first, then fail: the write must be rolled back with everything else.
            self.inner.enqueue(message).await?;
            return Err(injected());
        }
        self.inner.enqueue(message).await
    }
    async fn complete_idempotency(
        &mut self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        if matches!(self.fault, Fault::CompleteIdempotency) {
            self.inner.complete_idempotency(reserved, record).await?;
            return Err(injected());
        }
        self.inner.complete_idempotency(reserved, record).await
    }
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.commit().await
    }
}

#[async_trait]
impl DirectoryStore for FaultyStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), CreateError> {
        self.inner.create_organization(org).await
    }
    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        self.inner.get_organization(id).await
    }
    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.inner.list_organizations().await
    }
    async fn create_user(&self, user: &User) -> Result<(), CreateError> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>, StoreError> {
        self.inner.get_user(org, id).await
    }
    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        self.inner.find_user_by_username(org, username).await
    }
    async fn find_public_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.inner.find_public_user(username).await
    }
    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>, StoreError> {
        self.inner.list_users(org).await
    }
    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> Result<bool, StoreError> {
        self.inner.set_password_hash(org, id, hash).await
    }
    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: domain::organization::Role,
    ) -> Result<bool, StoreError> {
        self.inner.set_user_role(org, id, role).await
    }
    async fn remove_user(&self, org: OrganizationId, id: UserId) -> Result<bool, StoreError> {
        self.inner.remove_user(org, id).await
    }
}

#[async_trait]
impl ScheduleStore for FaultyStore {
    async fn create_schedule(&self, s: &Schedule) -> Result<(), CreateError> {
        self.inner.create_schedule(s).await
    }
    async fn get_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        self.inner.get_schedule(org, id).await
    }
    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError> {
        self.inner.list_schedules(org, user).await
    }
    async fn zoned_event_types(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Vec<EventType>, StoreError> {
        self.inner.zoned_event_types(org, id).await
    }
    async fn update_schedule(
        &self,
        s: &Schedule,
        expected: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        self.inner.update_schedule(s, expected, outbox).await
    }
    async fn delete_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<(), DeleteError> {
        self.inner.delete_schedule(org, id).await
    }
}

#[async_trait]
impl EventTypeStore for FaultyStore {
    async fn create_event_type(&self, et: &EventType) -> Result<(), CreateError> {
        self.inner.create_event_type(et).await
    }
    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>, StoreError> {
        self.inner.get_event_type(org, id).await
    }
    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>, StoreError> {
        self.inner.find_event_type(org, username, slug).await
    }
    async fn list_event_types(
        &self,
        org: OrganizationId,
        q: &EventTypeQuery,
    ) -> Result<Page<EventType>, StoreError> {
        self.inner.list_event_types(org, q).await
    }
    async fn update_event_type(
        &self,
        et: &EventType,
        expected: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        self.inner.update_event_type(et, expected, outbox).await
    }
    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> Result<(), DeleteError> {
        self.inner.delete_event_type(org, id, outbox).await
    }
}

#[async_trait]
impl BookingStore for FaultyStore {
    async fn get_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<Booking>, StoreError> {
        self.inner.get_booking(org, uid).await
    }
    async fn list_bookings(
        &self,
        org: OrganizationId,
        q: &BookingQuery,
    ) -> Result<Page<Booking>, StoreError> {
        self.inner.list_bookings(org, q).await
    }
    async fn slot_inputs(
        &self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        self.inner.slot_inputs(event_type, ranges, now).await
    }
    async fn begin(
        &self,
        org: OrganizationId,
        event_type: EventTypeId,
    ) -> Result<Box<dyn BookingTx>, BookingWriteError> {
        if let Fault::Stall(stall) = &self.fault {
            stall.hold().await;
        }
        let inner = self.inner.begin(org, event_type).await?;
        Ok(Box::new(FaultyTx {
            inner,
            fault: self.fault.clone(),
        }))
    }
}

#[async_trait]
impl IdempotencyStore for FaultyStore {
    async fn reserve(
        &self,
        key: &IdempotencyKey,
        fp: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Reservation, StoreError> {
        self.inner.reserve(key, fp, now, lease).await
    }
    async fn complete(&self, key: &ReservedKey, r: &ReplayRecord) -> Result<(), StoreError> {
        self.inner.complete(key, r).await
    }
    async fn release(&self, key: &ReservedKey) -> Result<(), StoreError> {
        self.inner.release(key).await
    }
    async fn purge_expired(&self, before: Timestamp, max: u32) -> Result<u64, StoreError> {
        self.inner.purge_expired(before, max).await
    }
}

#[async_trait]
impl OutboxStore for FaultyStore {
    async fn enqueue(&self, m: &OutboxMessage) -> Result<(), StoreError> {
        self.inner.enqueue(m).await
    }
    async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.inner.claim(now, lease, max).await
    }
    async fn mark_done(
        &self,
        org: OrganizationId,
        id: OutboxId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.mark_done(org, id, now).await
    }
    async fn pending(&self, org: OrganizationId) -> Result<Vec<OutboxMessage>, StoreError> {
        self.inner.pending(org).await
    }
}

#[async_trait]
impl TokenStore for FaultyStore {
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> Result<(), CreatePatError> {
        self.inner.create_pat(pat, now).await
    }
    async fn find_pat_by_lookup(
        &self,
        lookup: &str,
    ) -> Result<Option<PersonalAccessToken>, StoreError> {
        self.count_token_read();
        self.inner.find_pat_by_lookup(lookup).await
    }
    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError> {
        self.inner.list_pats(org, user).await
    }
    async fn revoke_pat(
        &self,
        org: OrganizationId,
        id: TokenId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.revoke_pat(org, id, now).await
    }
}

#[async_trait]
impl domain::oauth::OAuthStore for FaultyStore {
    async fn create_client(
        &self,
        c: &domain::oauth::OAuthClient,
    ) -> Result<(), domain::ports::CreateError> {
        self.inner.create_client(c).await
    }
    async fn get_client(
        &self,
        client_id: &str,
    ) -> Result<Option<domain::oauth::OAuthClient>, StoreError> {
        self.inner.get_client(client_id).await
    }
    async fn list_clients(&self) -> Result<Vec<domain::oauth::OAuthClient>, StoreError> {
        self.inner.list_clients().await
    }
    async fn set_client_secret(&self, client_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
        self.inner.set_client_secret(client_id, hash).await
    }
    async fn revoke_client(&self, client_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.inner.revoke_client(client_id, now).await
    }
    async fn users_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<domain::organization::User>, StoreError> {
        self.inner.users_by_email(email).await
    }
    async fn create_code(&self, c: &domain::oauth::AuthorizationCode) -> Result<(), StoreError> {
        self.inner.create_code(c).await
    }
    async fn find_code(
        &self,
        lookup: &str,
    ) -> Result<Option<domain::oauth::AuthorizationCode>, StoreError> {
        self.inner.find_code(lookup).await
    }
    async fn redeem_code(
        &self,
        lookup: &str,
        now: Timestamp,
    ) -> Result<Option<domain::oauth::Redemption>, StoreError> {
        self.inner.redeem_code(lookup, now).await
    }
    async fn insert_tokens(&self, tokens: &[domain::oauth::OAuthToken]) -> Result<(), StoreError> {
        self.inner.insert_tokens(tokens).await
    }
    async fn find_token(
        &self,
        lookup: &str,
    ) -> Result<Option<domain::oauth::OAuthToken>, StoreError> {
        self.count_token_read();
        self.inner.find_token(lookup).await
    }
    async fn rotate_refresh(
        &self,
        lookup: &str,
        now: Timestamp,
        successors: &[domain::oauth::OAuthToken],
    ) -> Result<bool, StoreError> {
        self.inner.rotate_refresh(lookup, now, successors).await
    }
    async fn revoke_family(&self, family_id: uuid::Uuid, now: Timestamp) -> Result<(), StoreError> {
        self.inner.revoke_family(family_id, now).await
    }
    async fn revoke_token(&self, lookup: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.inner.revoke_token(lookup, now).await
    }
}

#[async_trait]
impl domain::booking_page::link::InviteeLinkStore for FaultyStore {
    async fn insert_invitee_link(
        &self,
        link: &domain::booking_page::link::InviteeLink,
    ) -> Result<domain::booking_page::link::InviteeLink, StoreError> {
        self.inner.insert_invitee_link(link).await
    }
    async fn invitee_link(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<domain::booking_page::link::InviteeLink>, StoreError> {
        self.inner.invitee_link(org, uid).await
    }
    async fn find_invitee_link(
        &self,
        org: OrganizationId,
        token_hash: &[u8],
    ) -> Result<Option<domain::booking_page::link::InviteeLink>, StoreError> {
        self.inner.find_invitee_link(org, token_hash).await
    }
}

#[async_trait]
impl Storage for FaultyStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[async_trait]
impl domain::webhook::WebhookStore for FaultyStore {
    async fn create_webhook(&self, w: &domain::webhook::Webhook) -> Result<(), StoreError> {
        self.inner.create_webhook(w).await
    }
    async fn get_webhook(
        &self,
        org: OrganizationId,
        id: domain::webhook::WebhookId,
    ) -> Result<Option<domain::webhook::Webhook>, StoreError> {
        self.inner.get_webhook(org, id).await
    }
    async fn list_webhooks(
        &self,
        org: OrganizationId,
        owner: Option<&str>,
    ) -> Result<Vec<domain::webhook::Webhook>, StoreError> {
        self.inner.list_webhooks(org, owner).await
    }
    async fn update_webhook(&self, w: &domain::webhook::Webhook) -> Result<bool, StoreError> {
        self.inner.update_webhook(w).await
    }
    async fn delete_webhook(
        &self,
        org: OrganizationId,
        id: domain::webhook::WebhookId,
    ) -> Result<bool, StoreError> {
        self.inner.delete_webhook(org, id).await
    }
    async fn fan_out(
        &self,
        m: &OutboxMessage,
        deliveries: &[domain::webhook::Delivery],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.fan_out(m, deliveries, now).await
    }
    async fn insert_delivery(&self, d: &domain::webhook::Delivery) -> Result<(), StoreError> {
        self.inner.insert_delivery(d).await
    }
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<domain::webhook::Delivery>, StoreError> {
        self.inner.claim_deliveries(now, lease, max).await
    }
    async fn record_attempt(
        &self,
        d: &domain::webhook::Delivery,
        effect: domain::webhook::AttemptEffect,
        pause_after: u32,
        pause_reason: &str,
    ) -> Result<(), StoreError> {
        self.inner
            .record_attempt(d, effect, pause_after, pause_reason)
            .await
    }
    async fn get_delivery(
        &self,
        org: OrganizationId,
        id: domain::webhook::DeliveryId,
    ) -> Result<Option<domain::webhook::Delivery>, StoreError> {
        self.inner.get_delivery(org, id).await
    }
    async fn list_deliveries(
        &self,
        org: OrganizationId,
        webhook: domain::webhook::WebhookId,
        page: &domain::pagination::PageRequest,
    ) -> Result<Page<domain::webhook::Delivery>, StoreError> {
        self.inner.list_deliveries(org, webhook, page).await
    }
    async fn purge_finished(
        &self,
        before: Timestamp,
        max: u32,
        notified: &[&str],
    ) -> Result<u64, StoreError> {
        self.inner.purge_finished(before, max, notified).await
    }
    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.inner.queue_depth().await
    }
}

#[async_trait]
impl domain::notification::NotificationStore for FaultyStore {
    async fn claim_notification_events(
        &self,
        events: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.inner
            .claim_notification_events(events, now, lease, max)
            .await
    }
    async fn fan_out_notifications(
        &self,
        m: &OutboxMessage,
        n: &[domain::notification::Notification],
        cancel: &[BookingUid],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.fan_out_notifications(m, n, cancel, now).await
    }
    async fn claim_notifications(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<domain::notification::Notification>, StoreError> {
        self.inner.claim_notifications(now, lease, max).await
    }
    async fn record_notification(
        &self,
        n: &domain::notification::Notification,
    ) -> Result<(), StoreError> {
        self.inner.record_notification(n).await
    }
    async fn list_notifications(
        &self,
        org: OrganizationId,
        state: Option<domain::notification::NotificationState>,
        limit: u32,
    ) -> Result<Vec<domain::notification::Notification>, StoreError> {
        self.inner.list_notifications(org, state, limit).await
    }
}
