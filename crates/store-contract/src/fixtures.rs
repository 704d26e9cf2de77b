//! Fixtures shared by every behaviour: a settable clock, time-ordered ids, a trivial event
//! encoder, and a [`World`] that builds organizations, users, always-open schedules, event types,
//! bookings, outbox messages and tokens against one fresh store.
//!
//! Every instant a fixture produces has millisecond precision, so round trips through either
//! store compare equal as whole domain structs. Builders (`organization`, `user`, `booking`, …)
//! only build; the `create_*` methods also write through the store and assert success.

use domain::access::{self, ScopeSet};
use domain::availability::Schedule;
use domain::booking::Booking;
use domain::booking_service::{BookingDraft, BookingService};
use domain::event_type::{EventType, SchedulingType};
use domain::fixtures::{BookingBuilder, EventTypeBuilder, ScheduleBuilder};
use domain::ids::*;
use domain::organization::{Organization, Role, User, Username};
use domain::pagination::{Cursor, Limit, PageRequest};
use domain::ports::*;
use domain::validate::Email;
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Where every test's clock starts: Monday 2026-01-05 00:00 UTC.
pub const CLOCK_START: &str = "2026-01-05T00:00:00Z";

/// Parses an RFC 3339 instant.
pub fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad fixture instant {s}: {e}"))
}

/// Minutes as a duration.
pub fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// Milliseconds as a duration.
pub fn millis(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

/// Midnight UTC of the `n`-th day after Monday 2026-02-02 (well after [`CLOCK_START`]).
pub fn day(n: i64) -> Timestamp {
    ts("2026-02-02T00:00:00Z") + SignedDuration::from_hours(24 * n)
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn new(now: Timestamp) -> Self {
        Self(Mutex::new(now))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap() = now;
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// UUIDv7 ids whose timestamp part counts up by one millisecond per id, so ids sort in the order
/// they were made. The starting millisecond is random, so two worlds never share ids.
#[derive(Debug)]
pub struct SequentialIds {
    base_ms: u64,
    next: AtomicU64,
}

impl Default for SequentialIds {
    fn default() -> Self {
        Self {
            base_ms: 1_700_000_000_000 + u64::from(rand::random::<u32>()) * 1000,
            next: AtomicU64::new(0),
        }
    }
}

impl IdGen for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let noise = u128::from(n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
            .to_be_bytes();
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&noise[..10]);
        uuid::Builder::from_unix_timestamp_millis(self.base_ms + n, &tail).into_uuid()
    }
}

/// Renders every event as a tiny JSON object naming the event and the row it is about.
#[derive(Debug, Default)]
pub struct TestEncoder;

impl EventEncoder for TestEncoder {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        let subject = match event {
            DomainEvent::BookingCreated { booking, .. }
            | DomainEvent::BookingUpdated { booking, .. }
            | DomainEvent::BookingCanceled { booking, .. }
            | DomainEvent::BookingRescheduled { booking, .. } => booking.uid.to_string(),
            DomainEvent::EventTypeUpdated { event_type, .. }
            | DomainEvent::EventTypeDeleted { event_type, .. } => event_type.id.to_string(),
        };
        format!(r#"{{"event":"{}","id":"{subject}"}}"#, event.name())
    }
}

/// An organization with its owner and the owner's always-open schedule.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub org: Organization,
    pub owner: User,
    pub schedule: Schedule,
}

/// One fresh store plus the clock, ids and encoder a test writes with.
#[derive(Clone)]
pub struct World {
    pub store: Arc<dyn Storage>,
    pub clock: Arc<FixedClock>,
    pub ids: Arc<SequentialIds>,
    pub encoder: Arc<TestEncoder>,
}

impl World {
    pub fn new(store: Arc<dyn Storage>) -> Self {
        Self {
            store,
            clock: Arc::new(FixedClock::new(ts(CLOCK_START))),
            ids: Arc::new(SequentialIds::default()),
            encoder: Arc::new(TestEncoder),
        }
    }

    /// The domain services over this world's store (or another store, e.g. a fault injector).
    pub fn deps(&self) -> BookingService {
        self.deps_over(self.store.clone())
    }

    pub fn deps_over(&self, store: Arc<dyn Storage>) -> BookingService {
        BookingService::over(
            store,
            self.clock.clone(),
            self.ids.clone(),
            self.encoder.clone(),
        )
    }

    pub fn id(&self) -> Uuid {
        self.ids.new_id()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn organization(&self, name: &str) -> Organization {
        Organization {
            id: OrganizationId(self.id()),
            name: name.to_owned(),
            plan: Some("team".into()),
            created_at: self.now(),
        }
    }

    pub async fn create_organization(&self, name: &str) -> Organization {
        let org = self.organization(name);
        self.store.create_organization(&org).await.unwrap();
        org
    }

    /// A member whose e-mail is `<username>@example.com`; every optional field is set.
    pub fn user(&self, org: &Organization, username: &str) -> User {
        User {
            id: UserId(self.id()),
            organization_id: org.id,
            username: Some(Username::parse(username).unwrap()),
            email: Email::parse(&format!("{username}@example.com")).unwrap(),
            first_name: Some("Ada".into()),
            last_name: Some(format!("Host {username}")),
            timezone: Some("Europe/Berlin".into()),
            locale: Some("de".into()),
            avatar_url: Some(format!("https://example.com/{username}.png")),
            role: Role::Member,
            password_hash: None,
            created_at: self.now(),
        }
    }

    pub async fn create_user(&self, org: &Organization, username: &str) -> User {
        let user = self.user(org, username);
        self.store.create_user(&user).await.unwrap();
        user
    }

    /// Mon–Sun 00:00–24:00 UTC.
    pub fn schedule(&self, user: &User) -> Schedule {
        ScheduleBuilder::new(ScheduleId(self.id()), user.organization_id, user.id)
            .at(self.now())
            .build()
    }

    pub async fn create_schedule(&self, user: &User) -> Schedule {
        let schedule = self.schedule(user);
        self.store.create_schedule(&schedule).await.unwrap();
        schedule
    }

    /// A user with an always-open schedule.
    pub async fn create_host(&self, org: &Organization, username: &str) -> (User, Schedule) {
        let user = self.create_user(org, username).await;
        let schedule = self.create_schedule(&user).await;
        (user, schedule)
    }

    /// An organization named `name` whose owner is `<name>-owner`.
    pub async fn create_tenant(&self, name: &str) -> Tenant {
        let org = self.create_organization(name).await;
        let (owner, schedule) = self.create_host(&org, &format!("{name}-owner")).await;
        Tenant {
            org,
            owner,
            schedule,
        }
    }

    /// A 30-minute event type without buffers, notice or horizon, bookable any time; group event
    /// types get 3 seats. `hosts` are `(user, schedule)` pairs; the first one owns it.
    pub fn event_type(
        &self,
        hosts: &[(&User, &Schedule)],
        kind: SchedulingType,
        slug: &str,
    ) -> EventType {
        let owner = hosts[0].0;
        let hosts: Vec<(UserId, ScheduleId)> = hosts.iter().map(|(u, s)| (u.id, s.id)).collect();
        EventTypeBuilder::new(EventTypeId(self.id()), owner.organization_id, slug)
            .hosts(&hosts)
            .kind(kind)
            .seats(if kind == SchedulingType::Group { 3 } else { 1 })
            .at(self.now())
            .build()
    }

    pub async fn create_event_type(&self, event_type: EventType) -> EventType {
        self.store.create_event_type(&event_type).await.unwrap();
        event_type
    }

    /// An individual 30-minute event type of the tenant's owner.
    pub async fn create_individual(&self, t: &Tenant, slug: &str) -> EventType {
        let et = self.event_type(&[(&t.owner, &t.schedule)], SchedulingType::Individual, slug);
        self.create_event_type(et).await
    }

    /// A confirmed booking of `event_type` at `start` hosted by `host`, not yet written.
    pub fn booking(&self, event_type: &EventType, host: UserId, start: Timestamp) -> Booking {
        BookingBuilder::of(BookingUid(self.id()), event_type, host, start)
            .at(self.now())
            .build()
    }

    /// Writes one booking in its own transaction, as the port sees it (no slot engine).
    pub async fn insert(
        &self,
        booking: &Booking,
        shares_seats: bool,
    ) -> Result<(), BookingWriteError> {
        let mut tx = self
            .store
            .begin(booking.organization_id, booking.event_type_id)
            .await?;
        tx.insert_booking(booking, shares_seats).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes bookings of one event type in one transaction, asserting success.
    pub async fn insert_all(&self, bookings: &[Booking]) {
        let Some(first) = bookings.first() else {
            return;
        };
        let mut tx = self
            .store
            .begin(first.organization_id, first.event_type_id)
            .await
            .unwrap();
        for b in bookings {
            tx.insert_booking(b, false).await.unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// Replaces a stored booking (version already bumped) in its own transaction.
    pub async fn update(
        &self,
        booking: &Booking,
        expected_version: i64,
    ) -> Result<(), BookingWriteError> {
        let mut tx = self
            .store
            .begin(booking.organization_id, booking.event_type_id)
            .await?;
        tx.update_booking(booking, expected_version).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An outbox message created now.
    pub fn outbox_message(&self, org: OrganizationId, event: &str) -> OutboxMessage {
        let id = OutboxId(self.id());
        OutboxMessage {
            id,
            organization_id: org,
            event: event.to_owned(),
            payload: format!(r#"{{"id":"{id}"}}"#),
            created_at: self.now(),
        }
    }

    /// An active token with a unique 12-character lookup and every field set.
    pub fn pat(&self, org: &Organization, user: &User, name: &str) -> PersonalAccessToken {
        let id = self.id();
        let lookup: String = id.simple().to_string().chars().rev().take(12).collect();
        PersonalAccessToken {
            id: TokenId(id),
            organization_id: org.id,
            user_id: user.id,
            name: name.to_owned(),
            lookup,
            secret_hash: id.as_bytes().iter().rev().copied().collect(),
            scopes: scopes(&["bookings:read", "bookings:write"]),
            last_four: "x9Z_".into(),
            expires_at: Some(self.now() + SignedDuration::from_hours(24 * 90)),
            revoked_at: None,
            created_at: self.now(),
        }
    }

    /// Every booking matching `query`, walking all pages.
    pub async fn all_bookings(&self, org: OrganizationId, query: &BookingQuery) -> Vec<Booking> {
        let mut query = query.clone();
        query.page = PageRequest {
            limit: Limit::new(100).unwrap(),
            after: None,
        };
        let mut out = Vec::new();
        loop {
            let page = self.store.list_bookings(org, &query).await.unwrap();
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if page.has_more => {
                    query.page.after = Some(Cursor::decode(&c, query.sort.as_str()).unwrap());
                }
                _ => return out,
            }
        }
    }

    /// Every booking of `org`, cancelled ones included.
    pub async fn every_booking(&self, org: OrganizationId) -> Vec<Booking> {
        let q = BookingQuery {
            include_cancelled: true,
            sort: BookingSort::StartAtAsc,
            ..BookingQuery::default()
        };
        self.all_bookings(org, &q).await
    }
}

pub use domain::fixtures::attendee;

/// A request to book `start` for `email`.
pub fn new_booking(start: Timestamp, email: &str) -> BookingDraft {
    domain::fixtures::booking_draft(start, email)
}

/// An expanded scope set.
pub fn scopes(names: &[&str]) -> ScopeSet {
    access::expand(names.iter().copied()).unwrap()
}

/// The in-progress lease the contract tests reserve with (the server's default: 30 s request
/// timeout + 2 s pool acquire timeout + 5 s lock timeout).
pub const LEASE: SignedDuration = SignedDuration::from_secs(37);

/// `key` as reserved by `outcome`, which must be [`Reservation::Reserved`].
pub fn reserved(key: &IdempotencyKey, outcome: Reservation) -> ReservedKey {
    match outcome {
        Reservation::Reserved(nonce) => ReservedKey {
            key: key.clone(),
            nonce,
        },
        other => panic!("expected {key:?} to be reserved, got {other:?}"),
    }
}

/// An idempotency key in `org` for `owner`.
pub fn idempotency_key(org: OrganizationId, owner: &str, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        organization_id: org,
        owner: owner.to_owned(),
        key: key.to_owned(),
    }
}
