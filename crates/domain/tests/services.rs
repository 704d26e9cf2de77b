//! Unit tests of the application services' rules over the in-memory store (no database, no
//! runtime): event types, schedules, slots, the directory and tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::availability::{NewSchedule, RuleRequest, SchedulePatch};
use domain::directory_service::{
    CreateUserError, DirectoryService, NewUser, Password, PasswordHasher, SetPasswordError,
};
use domain::event_type::{EventTypePatch, EventTypeRef, HostRequest, NewEventType};
use domain::event_type_service::{CreateEventTypeError, EventTypeService, UpdateEventTypeError};
use domain::ids::{OrganizationId, ScheduleId, UserId};
use domain::organization::Role;
use domain::ports::{Clock, DomainEvent, EventEncoder, IdGen, OutboxStore, Storage};
use domain::schedule_service::{CreateScheduleError, ScheduleService, UpdateScheduleError};
use domain::slot_service::{SlotError, SlotQuery, SlotService};
use domain::token_service::{
    AuthenticateError, MintTokenError, MintedSecret, NewToken, PresentedToken, TokenSecrets,
    TokenService, TokenText,
};
use domain::validate::FieldErrors;
use futures::executor::block_on;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use store_memory::MemoryStore;
use uuid::Uuid;

/// A clock tests move by hand.
#[derive(Default)]
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + self.0.load(Ordering::Relaxed)).unwrap()
    }
}

struct Counting(AtomicU64);

impl IdGen for Counting {
    fn new_id(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.0.fetch_add(1, Ordering::Relaxed)) + 1000)
    }
}

struct NameOnly;

impl EventEncoder for NameOnly {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        match event {
            DomainEvent::EventTypeUpdated { timezone, .. }
            | DomainEvent::EventTypeDeleted { timezone, .. } => {
                format!("{}|{}", event.name(), timezone.unwrap_or("-"))
            }
            _ => event.name().to_owned(),
        }
    }
}

/// Tokens `tok_<lookup>_<secret>`; the "hash" is the secret reversed.
struct PlainSecrets(AtomicU64);

impl TokenSecrets for PlainSecrets {
    fn mint(&self) -> anyhow::Result<MintedSecret> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let secret = format!("s{n}xyz");
        Ok(MintedSecret {
            token: TokenText::new(format!("tok_L{n}_{secret}")),
            lookup: format!("L{n}"),
            secret_hash: secret.bytes().rev().collect(),
            last_four: secret[secret.len() - 4..].to_owned(),
        })
    }

    fn parse(&self, token: &str) -> Option<PresentedToken> {
        let rest = token.strip_prefix("tok_")?;
        let (lookup, _) = rest.split_once('_')?;
        Some(PresentedToken {
            lookup: lookup.to_owned(),
            token: TokenText::new(token),
        })
    }

    fn verify(&self, presented: &PresentedToken, stored_hash: &[u8]) -> bool {
        let secret = presented.token.expose().rsplit('_').next().unwrap_or("");
        secret.bytes().rev().collect::<Vec<u8>>() == stored_hash
    }
}

struct ReverseHasher;

#[async_trait::async_trait]
impl PasswordHasher for ReverseHasher {
    async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        Ok(format!(
            "h:{}",
            password.expose().chars().rev().collect::<String>()
        ))
    }
}

struct World {
    store: Arc<MemoryStore>,
    clock: Arc<TestClock>,
    org: OrganizationId,
    ada: UserId,
    directory: DirectoryService,
    schedules: ScheduleService,
    event_types: EventTypeService,
    slots: SlotService,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let s: Arc<dyn Storage> = store.clone();
    let clock = Arc::new(TestClock::default());
    let ids: Arc<dyn IdGen> = Arc::new(Counting(AtomicU64::new(0)));
    let directory = DirectoryService::new(
        s.clone(),
        Arc::new(ReverseHasher),
        clock.clone(),
        ids.clone(),
    );
    let schedules = ScheduleService::new(
        s.clone(),
        s.clone(),
        clock.clone(),
        ids.clone(),
        Arc::new(NameOnly),
    );
    let event_types = EventTypeService::new(
        s.clone(),
        s.clone(),
        s.clone(),
        clock.clone(),
        ids.clone(),
        Arc::new(NameOnly),
    );
    let slots = SlotService::new(s.clone(), s.clone(), s, clock.clone());
    let org = block_on(directory.create_organization("Acme")).unwrap().id;
    let ada = block_on(directory.create_user(org, user("ada@example.com", "ada", Role::Owner)))
        .unwrap()
        .id;
    World {
        store,
        clock,
        org,
        ada,
        directory,
        schedules,
        event_types,
        slots,
    }
}

fn user(email: &str, username: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        username: username.into(),
        role,
        first_name: None,
        last_name: None,
        timezone: None,
        password: None,
    }
}

fn workdays(zone: &str) -> NewSchedule {
    NewSchedule {
        user_id: None,
        name: Some("Work".into()),
        timezone: Some(zone.into()),
        rules: vec![RuleRequest {
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            start: "09:00".into(),
            end: "17:00".into(),
        }],
        overrides: vec![],
    }
}

fn fields(e: &FieldErrors) -> Vec<&str> {
    let mut f: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    f.sort();
    f.dedup();
    f
}

fn intro(host: UserId) -> NewEventType {
    NewEventType {
        slug: Some("intro".into()),
        title: Some("Intro".into()),
        duration_minutes: Some(30),
        hosts: Some(vec![HostRequest {
            user_id: host,
            schedule_id: None,
        }]),
        ..NewEventType::default()
    }
}

#[test]
fn event_type_create_reports_every_failing_field_with_the_host_resolution() {
    let w = world();
    let mut new = intro(UserId(Uuid::from_u128(9)));
    new.slug = Some("Bad Slug".into());
    new.color = Some("red".into());
    new.scheduling_type = Some("solo".into());
    let Err(CreateEventTypeError::Invalid(e)) = block_on(w.event_types.create(w.org, new)) else {
        panic!("expected a validation error");
    };
    assert_eq!(
        fields(&e),
        vec!["color", "hosts", "owner_user_id", "scheduling_type", "slug"]
    );
    // Ada has no schedule yet: the default cannot be resolved.
    let Err(CreateEventTypeError::Invalid(e)) = block_on(w.event_types.create(w.org, intro(w.ada)))
    else {
        panic!("expected a validation error");
    };
    assert!(e.0[0].message.contains("has no schedule"), "{e:?}");
}

#[test]
fn the_host_schedule_defaults_to_the_users_first_and_gives_the_zone() {
    let w = world();
    let first = block_on(w.schedules.create(w.org, w.ada, workdays("Asia/Tokyo"))).unwrap();
    w.clock.0.store(60, Ordering::Relaxed);
    block_on(w.schedules.create(w.org, w.ada, workdays("Europe/Berlin"))).unwrap();
    let et = block_on(w.event_types.create(w.org, intro(w.ada))).unwrap();
    assert_eq!(et.value.hosts[0].schedule_id, first.id);
    assert_eq!(
        et.value.owner_user_id, w.ada,
        "the owner defaults to the first host"
    );
    assert_eq!(
        et.relations.zone(&et.value).map(|z| z.name()),
        Some("Asia/Tokyo")
    );
    assert_eq!(
        block_on(w.event_types.zone(&et.value)).unwrap().name(),
        "Asia/Tokyo"
    );
    // A schedule that does not exist: the rule falls back to UTC.
    let mut orphan = et.value.clone();
    orphan.hosts[0].schedule_id = ScheduleId(Uuid::from_u128(77));
    assert_eq!(block_on(w.event_types.zone(&orphan)).unwrap().name(), "UTC");
}

#[test]
fn event_type_updates_check_the_version_and_enqueue_their_event() {
    let w = world();
    block_on(w.schedules.create(w.org, w.ada, workdays("Europe/Berlin"))).unwrap();
    let et = block_on(w.event_types.create(w.org, intro(w.ada)))
        .unwrap()
        .value;
    let patch = EventTypePatch {
        title: Some("Hello".into()),
        ..EventTypePatch::default()
    };
    let stale = block_on(w.event_types.update(w.org, et.id, 7, patch.clone()));
    assert!(matches!(stale, Err(UpdateEventTypeError::VersionConflict)));
    let bad = EventTypePatch {
        color: Some("x".into()),
        seats: Some(1),
        buffer_after_minutes: Some(100_000),
        ..EventTypePatch::default()
    };
    let Err(UpdateEventTypeError::Invalid(e)) =
        block_on(w.event_types.update(w.org, et.id, 1, bad))
    else {
        panic!("expected a validation error");
    };
    assert_eq!(fields(&e), vec!["buffer_after_minutes", "color"]);
    assert!(
        block_on(w.store.pending(w.org)).unwrap().is_empty(),
        "nothing enqueued"
    );
    let done = block_on(w.event_types.update(w.org, et.id, 1, patch)).unwrap();
    assert_eq!(
        (done.value.version, done.value.title.as_str()),
        (2, "Hello")
    );
    block_on(w.event_types.delete(w.org, et.id)).unwrap();
    let events: Vec<String> = block_on(w.store.pending(w.org))
        .unwrap()
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(
        events,
        vec![
            "event_type.updated|Europe/Berlin",
            "event_type.deleted|Europe/Berlin"
        ]
    );
    let gone = block_on(w.event_types.get(w.org, &EventTypeRef::Id(et.id)));
    assert!(gone.is_err());
}

#[test]
fn schedules_report_every_field_and_check_the_version() {
    let w = world();
    let mut new = workdays("Mars/Base");
    new.user_id = Some(UserId(Uuid::from_u128(5)));
    new.name = Some(" ".into());
    new.rules[0].start = "9".into();
    let Err(CreateScheduleError::Invalid(e)) = block_on(w.schedules.create(w.org, w.ada, new))
    else {
        panic!("expected a validation error");
    };
    assert_eq!(
        fields(&e),
        vec!["name", "rules[0].start", "timezone", "user_id"]
    );
    let s = block_on(w.schedules.create(w.org, w.ada, workdays("UTC"))).unwrap();
    let patch = SchedulePatch {
        timezone: Some("Asia/Tokyo".into()),
        ..SchedulePatch::default()
    };
    let stale = block_on(w.schedules.update(w.org, s.id, 2, patch.clone()));
    assert!(matches!(stale, Err(UpdateScheduleError::VersionConflict)));
    let s = block_on(w.schedules.update(w.org, s.id, 1, patch)).unwrap();
    assert_eq!((s.version, s.zone.name()), (2, "Asia/Tokyo"));
}

#[test]
fn slots_read_plain_dates_in_the_event_types_zone() {
    let w = world();
    block_on(
        w.schedules
            .create(w.org, w.ada, workdays("America/New_York")),
    )
    .unwrap();
    let et = block_on(w.event_types.create(w.org, intro(w.ada)))
        .unwrap()
        .value;
    let q = |start: &str, end: &str, tz: Option<&str>| SlotQuery {
        event_type: EventTypeRef::Id(et.id),
        start: start.into(),
        end: end.into(),
        timezone: tz.map(str::to_owned),
    };
    // 2026-06-01 is a Monday; the clock stands at 2026-05-28.
    let l = block_on(w.slots.list(w.org, &q("2026-06-01", "2026-06-02", None))).unwrap();
    assert_eq!(l.zone.name(), "America/New_York");
    assert_eq!(l.slots.slots.len(), 16);
    assert_eq!(l.slots.slots[0].start.to_string(), "2026-06-01T13:00:00Z");
    let e = block_on(
        w.slots
            .list(w.org, &q("2026-06-01", "2026-06-02", Some("Nowhere"))),
    );
    assert!(matches!(
        e,
        Err(SlotError::InvalidParam {
            param: "timezone",
            ..
        })
    ));
    let e = block_on(w.slots.list(w.org, &q("2026-06-01", "2026-08-01", None)));
    assert!(matches!(
        e,
        Err(SlotError::InvalidParam { param: "end", .. })
    ));
    let other = SlotQuery {
        event_type: EventTypeRef::Slug {
            username: "ada".into(),
            slug: "nope".into(),
        },
        ..q("2026-06-01", "2026-06-02", None)
    };
    assert!(matches!(
        block_on(w.slots.list(w.org, &other)),
        Err(SlotError::EventTypeNotFound)
    ));
}

#[test]
fn users_report_every_failing_field_and_passwords_are_hashed_through_the_port() {
    let w = world();
    let mut bad = user("jöhn@example", "Bad Name", Role::Member);
    bad.timezone = Some("Mars/Base".into());
    bad.password = Some(Password::new("short"));
    let Err(CreateUserError::Invalid(e)) = block_on(w.directory.create_user(w.org, bad)) else {
        panic!("expected a validation error");
    };
    assert_eq!(
        fields(&e),
        vec!["email", "password", "timezone", "username"]
    );
    let dup = block_on(
        w.directory
            .create_user(w.org, user("x@example.com", "ada", Role::Member)),
    );
    assert!(matches!(dup, Err(CreateUserError::Duplicate { .. })));
    let short = block_on(
        w.directory
            .set_password(w.org, w.ada, &Password::new("1234567")),
    );
    assert!(matches!(short, Err(SetPasswordError::TooShort)));
    block_on(
        w.directory
            .set_password(w.org, w.ada, &Password::new("12345678")),
    )
    .unwrap();
    let ada = block_on(w.directory.user(w.org, w.ada)).unwrap();
    assert_eq!(ada.password_hash.as_deref(), Some("h:87654321"));
}

/// OAuth secrets that recognise nothing: every bearer token is taken as a PAT here (the OAuth
/// side of `TokenService::authenticate` runs through real HTTP in `tests/it/oauth.rs`).
struct NoOAuthSecrets;

impl domain::oauth::OAuthSecrets for NoOAuthSecrets {
    fn mint(
        &self,
        _kind: domain::oauth::SecretKind,
    ) -> anyhow::Result<domain::oauth::MintedOAuthSecret> {
        anyhow::bail!("not in this test")
    }
    fn lookup(&self, _kind: domain::oauth::SecretKind, _text: &str) -> Option<String> {
        None
    }
    fn verify(&self, _kind: domain::oauth::SecretKind, _text: &str, _hash: &[u8]) -> bool {
        false
    }
    fn pkce_s256_matches(&self, _verifier: &str, _challenge: &str) -> bool {
        false
    }
}

/// A cache that keeps every entry it is given (no bound), counting hits.
#[derive(Default)]
struct KeepAll(
    std::sync::Mutex<Vec<Arc<domain::ports::CachedPatAuth>>>,
    AtomicU64,
);

#[async_trait::async_trait]
impl domain::ports::PatCache for KeepAll {
    async fn get(
        &self,
        lookup: &str,
        _now: Timestamp,
    ) -> Option<Arc<domain::ports::CachedPatAuth>> {
        let hit = self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.pat.lookup == lookup)
            .cloned();
        if hit.is_some() {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }
    async fn put(&self, auth: domain::ports::CachedPatAuth, _now: Timestamp) {
        self.0.lock().unwrap().push(Arc::new(auth));
    }
}

#[test]
fn tokens_authenticate_with_each_refusal() {
    use domain::ports::NoPatCache;
    let w = world();
    let s: Arc<dyn Storage> = w.store.clone();
    let tokens = TokenService::new(
        s.clone(),
        s.clone(),
        Arc::new(PlainSecrets(AtomicU64::new(0))),
        s.clone(),
        Arc::new(NoOAuthSecrets),
        w.clock.clone(),
        Arc::new(Counting(AtomicU64::new(500))),
    );
    let new = |name: &str, lifetime| NewToken {
        user: w.ada,
        name: name.into(),
        scopes: vec!["bookings:write".into()],
        lifetime,
    };
    let (pat, text) =
        block_on(tokens.mint(w.org, new("ci", Some(SignedDuration::from_hours(1))))).unwrap();
    assert!(
        pat.scopes.contains("bookings:create"),
        "aliases expanded at grant time"
    );
    let principal = block_on(tokens.authenticate(text.expose(), &NoPatCache)).unwrap();
    assert_eq!(principal.user_id, w.ada);
    assert_eq!(principal.role, Role::Owner);

    // A cached row spares the store read, but the secret and the expiry are checked again.
    let cache = KeepAll::default();
    block_on(tokens.authenticate(text.expose(), &cache)).unwrap();
    block_on(tokens.authenticate(text.expose(), &cache)).unwrap();
    assert_eq!(
        cache.1.load(Ordering::Relaxed),
        1,
        "the second call hit the cache"
    );
    let wrong = format!("tok_{}_nope", pat.lookup);
    for c in [&cache as &dyn domain::ports::PatCache, &NoPatCache] {
        assert!(matches!(
            block_on(tokens.authenticate(&wrong, c)),
            Err(AuthenticateError::Invalid)
        ));
    }
    assert!(matches!(
        block_on(tokens.authenticate("garbage", &NoPatCache)),
        Err(AuthenticateError::Invalid)
    ));

    w.clock.0.store(3600, Ordering::Relaxed);
    for c in [&cache as &dyn domain::ports::PatCache, &NoPatCache] {
        assert!(matches!(
            block_on(tokens.authenticate(text.expose(), c)),
            Err(AuthenticateError::Expired)
        ));
    }

    // The role is read with the row: on every call without a cache; a cached entry keeps the
    // role it was read with until the cache's bound ends (this cache has none).
    let (forever, text) = block_on(tokens.mint(w.org, new("forever", None))).unwrap();
    block_on(tokens.authenticate(text.expose(), &cache)).unwrap();
    block_on(w.directory.set_role(w.org, w.ada, Role::Member)).unwrap();
    let cached = block_on(tokens.authenticate(text.expose(), &cache)).unwrap();
    assert_eq!(cached.role, Role::Owner);
    let p = block_on(tokens.authenticate(text.expose(), &NoPatCache)).unwrap();
    assert_eq!(p.role, Role::Member);
    let p = domain::access::Principal {
        scopes: domain::access::expand(["event_types:update"]).unwrap(),
        ..p
    };
    assert!(matches!(
        p.authorize(domain::access::Operation::UpdateEventType),
        Err(domain::access::Denied::RoleTooLow { role: "member" })
    ));
    block_on(w.directory.set_role(w.org, w.ada, Role::Admin)).unwrap();

    block_on(tokens.revoke(w.org, forever.id)).unwrap();
    assert!(matches!(
        block_on(tokens.authenticate(text.expose(), &NoPatCache)),
        Err(AuthenticateError::Revoked)
    ));

    let bob = block_on(
        w.directory
            .create_user(w.org, user("bob@example.com", "bob", Role::Member)),
    )
    .unwrap();
    let member = NewToken {
        user: bob.id,
        ..new("bob", None)
    };
    assert!(matches!(
        block_on(tokens.mint(w.org, member)),
        Err(MintTokenError::MayNotOwnTokens { role: "member" })
    ));
    let unknown = NewToken {
        scopes: vec!["calendars:read".into()],
        ..new("x", None)
    };
    assert!(matches!(
        block_on(tokens.mint(w.org, unknown)),
        Err(MintTokenError::UnknownScope(_))
    ));

    // A removed user's tokens are refused at the next read of the row (a cached entry: when
    // the cache's bound ends, which this cache never does).
    let (_, text) = block_on(tokens.mint(w.org, new("last", None))).unwrap();
    block_on(tokens.authenticate(text.expose(), &cache)).unwrap();
    block_on(w.directory.remove_user(w.org, w.ada)).unwrap();
    assert!(matches!(
        block_on(tokens.authenticate(text.expose(), &NoPatCache)),
        Err(AuthenticateError::UserGone)
    ));
    assert!(matches!(
        block_on(w.directory.remove_user(w.org, w.ada)),
        Err(domain::directory_service::ChangeUserError::UserNotFound)
    ));
}
