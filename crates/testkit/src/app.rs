//! [`spawn_app`]: the real server on port 0 over a fresh database, a settable clock and two
//! seeded organizations; [`TestApp`] carries clients and fixture helpers.

use crate::client::{ApiClient, Resp};
use crate::clock::TestClock;
use crate::counting::{CountingCounter, GuardDbWork};
use crate::seed;
use domain::ports::Storage;
use http_api::ApiConfig;
use jiff::Timestamp;
use serde_json::{Value, json};
use server::admin::AdminContext;
use std::sync::Arc;
use uuid::Uuid;

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A minted personal access token.
#[derive(Debug, Clone)]
pub struct Minted {
    pub id: Uuid,
    /// The full `42min_pat_…` secret.
    pub token: String,
}

/// A user able to host, with both fixture schedules.
#[derive(Debug, Clone)]
pub struct Host {
    pub user_id: Uuid,
    pub username: String,
    /// Mon–Sun 00:00–24:00, Europe/Berlin.
    pub schedule_all_day: Uuid,
    /// Mon–Fri 09:00–17:00, Europe/Berlin.
    pub schedule_workdays: Uuid,
}

/// One seeded organization: its owner (a host), an individual 30-minute event type on the
/// all-day schedule and a token holding every active and reserved scope.
#[derive(Debug, Clone)]
pub struct OrgFixture {
    pub org_id: Uuid,
    pub name: String,
    pub owner: Host,
    pub email: String,
    /// `intro-call`, 30 minutes, individual, all-day schedule, no notice, 60-day horizon.
    pub event_type_id: Uuid,
    pub event_type_slug: String,
    /// Mon–Fri 09:00–17:00 variant: `workday-call`, 30 minutes.
    pub workday_event_type_id: Uuid,
    pub token: Minted,
    /// A client sending `token`.
    pub api: ApiClient,
}

impl OrgFixture {
    /// `username%2Fslug` for the fixture event type.
    pub fn event_type_path_slug(&self) -> String {
        format!("{}%2F{}", self.owner.username, self.event_type_slug)
    }
}

/// What a test event type looks like. Start from [`EventTypeSpec::individual`].
#[derive(Debug, Clone)]
pub struct EventTypeSpec {
    pub slug: String,
    pub title: String,
    pub duration_minutes: u32,
    /// `individual`, `group` or `collective`.
    pub scheduling_type: &'static str,
    /// `(user_id, schedule_id)` in order; empty = the organization owner on the all-day schedule.
    pub hosts: Vec<(Uuid, Uuid)>,
    pub seats: u32,
    pub minimum_notice_hours: u32,
    pub future_limit_days: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub active: bool,
    pub allow_reschedule: bool,
}

impl EventTypeSpec {
    /// A 30-minute individual event type, active, no notice, 60-day horizon, no buffers.
    pub fn individual(slug: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            title: format!("Title {slug}"),
            duration_minutes: 30,
            scheduling_type: "individual",
            hosts: Vec::new(),
            seats: 1,
            minimum_notice_hours: 0,
            future_limit_days: 60,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            active: true,
            allow_reschedule: true,
        }
    }

    /// A group event type with `seats` per slot.
    pub fn group(slug: &str, seats: u32) -> Self {
        Self {
            scheduling_type: "group",
            seats,
            ..Self::individual(slug)
        }
    }

    /// A round-robin (`collective`) event type over `hosts`.
    pub fn collective(slug: &str, hosts: &[&Host]) -> Self {
        Self {
            scheduling_type: "collective",
            hosts: hosts
                .iter()
                .map(|h| (h.user_id, h.schedule_all_day))
                .collect(),
            ..Self::individual(slug)
        }
    }
}

/// A running server with its database, clock and fixtures.
pub struct TestApp {
    pub backend: Backend,
    pub base_url: String,
    pub clock: TestClock,
    pub store: Arc<dyn Storage>,
    pub admin: AdminContext,
    /// The running server's authentication cache (shared with its state).
    pub auth_cache: http_api::auth_cache::AuthCache,
    /// The running server's idempotency reservations not yet settled (see
    /// [`TestApp::idempotency_settled`]).
    pub reservations: http_api::idempotency::Reservations,
    /// The running server's webhook use cases (for [`TestApp::drain_webhooks`]).
    pub webhooks: domain::webhook_service::WebhookService,
    /// Woken when webhook work may exist (SQLite commit signal; Postgres LISTEN/NOTIFY).
    pub wake: Arc<tokio::sync::Notify>,
    /// The SMTP server on loopback the app's notifications are sent to.
    pub mail: crate::smtp::MailSink,
    /// The app's notification use cases (SMTP to [`TestApp::mail`], reminders 24 h ahead).
    pub notifications: domain::notification_service::NotificationService,
    pub a: OrgFixture,
    pub b: OrgFixture,
    anon: ApiClient,
}

/// Spawns the app with the default configuration (`None`: Postgres skipped).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, ApiConfig::default()).await
}

/// The instant every test clock starts at: Monday 2027-01-11 06:00 UTC (07:00 in Berlin, 01:00
/// in New York), fixed so that a run does not depend on the day it happens on. The rest of the
/// local day is bookable, rate-limit windows start on a minute boundary, and no DST change falls
/// within the fixtures' 60-day horizon; tests that cross DST days or month ends move the clock
/// there on purpose (`tests/it/dst.rs`, `tests/it/month_ends.rs`).
pub const CLOCK_START: Timestamp = Timestamp::constant(1_799_647_200, 0);

/// Spawns the app with `config` (its `public_base_url` is replaced by the real address).
/// Webhook targets on loopback over `http://` are allowed (the test [`crate::Receiver`]).
pub async fn spawn_app_with(backend: Backend, config: ApiConfig) -> Option<TestApp> {
    spawn_app_webhooks(backend, config, true).await
}

/// The name [`TestLookup`] resolves to loopback (`127.0.0.1` and `::1`), as a rebinding
/// attacker's name would.
pub const LOOPBACK_NAME: &str = "loopback.test";

/// The system resolver, except that [`LOOPBACK_NAME`] resolves to loopback addresses.
struct TestLookup;

impl webhooks::Lookup for TestLookup {
    fn lookup(
        &self,
        host: String,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<Vec<std::net::IpAddr>>> + Send>,
    > {
        if host == LOOPBACK_NAME {
            return Box::pin(async {
                Ok(vec![
                    std::net::IpAddr::from([127, 0, 0, 1]),
                    std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                ])
            });
        }
        webhooks::SystemLookup.lookup(host)
    }
}

/// Spawns the app with the production webhook policy (`allow_loopback_http = false`): only
/// `https://` targets with public addresses.
pub async fn spawn_app_strict_webhooks(backend: Backend) -> Option<TestApp> {
    spawn_app_webhooks(backend, ApiConfig::default(), false).await
}

/// Spawns the app over a store whose booking writes wait at `begin` until `stall` opens (see
/// [`store_contract::faults::Stall`]): a request held mid-write, after its idempotency
/// reservation.
pub async fn spawn_app_stalled(
    backend: Backend,
    config: ApiConfig,
    stall: Arc<store_contract::faults::Stall>,
) -> Option<TestApp> {
    spawn_app_over(backend, config, true, Wrap::Stall(stall)).await
}

/// Spawns the app with its guard's database work counted: every token read of its store and
/// every hit on its shared rate-limit counter.
pub async fn spawn_app_counting(
    backend: Backend,
    config: ApiConfig,
) -> Option<(TestApp, Arc<GuardDbWork>)> {
    let work = Arc::new(GuardDbWork::default());
    let app = spawn_app_over(backend, config, true, Wrap::Count(work.clone())).await?;
    Some((app, work))
}

/// What [`spawn_app_over`] wraps the store in.
enum Wrap {
    None,
    Stall(Arc<store_contract::faults::Stall>),
    Count(Arc<GuardDbWork>),
}

async fn spawn_app_webhooks(
    backend: Backend,
    config: ApiConfig,
    allow_loopback_http: bool,
) -> Option<TestApp> {
    spawn_app_over(backend, config, allow_loopback_http, Wrap::None).await
}

async fn spawn_app_over(
    backend: Backend,
    mut config: ApiConfig,
    allow_loopback_http: bool,
    wrap: Wrap,
) -> Option<TestApp> {
    let (storage, shared_counter, wake) = match backend {
        Backend::Sqlite => {
            let opened = server::wiring::open_store("sqlite::memory:")
                .await
                .expect("opening a scratch SQLite database");
            (opened.storage, opened.shared_counter, opened.wake)
        }
        Backend::Postgres => match store_postgres::testing::fresh_database().await {
            Ok((store, url)) => {
                let store = Arc::new(store);
                let wake = Arc::new(tokio::sync::Notify::new());
                // Only the worker test relies on the wake-up; a failed LISTEN must not break
                // every other Postgres test, so it is reported, not fatal.
                if let Err(e) = store.listen_webhooks(wake.clone()).await {
                    eprintln!("LISTEN slotbook_webhooks failed: {e:#}");
                }
                let storage: Arc<dyn Storage> = store;
                // The server's own: a pool of its own with a short acquire timeout.
                let defaults = server::wiring::StoreSettings::default();
                let counter: Arc<dyn domain::ports::RateLimitCounter> = Arc::new(
                    store_postgres::PgRateLimitCounter::connect(
                        &url,
                        &store_postgres::PgSettings {
                            max_connections: defaults.counter_connections,
                            acquire_timeout: defaults.counter_acquire_timeout,
                        },
                    )
                    .expect("the shared counters' pool"),
                );
                (storage, Some(counter), wake)
            }
            Err(e) if store_postgres::testing::skip_allowed() => {
                eprintln!(
                    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                     !! WARNING: SLOTBOOK_SKIP_POSTGRES=1 — this Postgres test did NOT run:\n\
                     !! {e:#}\n\
                     !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                );
                return None;
            }
            Err(e) => panic!(
                "Postgres is unreachable ({e:#}). Start it, or set SLOTBOOK_SKIP_POSTGRES=1 to \
                 skip the Postgres variants (loudly)."
            ),
        },
    };
    let (storage, shared_counter) = match wrap {
        Wrap::None => (storage, shared_counter),
        Wrap::Stall(stall) => (
            Arc::new(store_contract::faults::FaultyStore {
                inner: storage,
                fault: store_contract::faults::Fault::Stall(stall),
            }) as Arc<dyn Storage>,
            shared_counter,
        ),
        Wrap::Count(work) => (
            Arc::new(store_contract::faults::FaultyStore {
                inner: storage,
                fault: store_contract::faults::Fault::CountTokenReads(work.token_reads.clone()),
            }) as Arc<dyn Storage>,
            shared_counter.map(|inner| {
                Arc::new(CountingCounter { inner, work })
                    as Arc<dyn domain::ports::RateLimitCounter>
            }),
        ),
    };
    let clock = TestClock::new(CLOCK_START);
    let pepper = auth::Pepper::new(b"testkit-pepper-0123456789abcdef-0123456789".to_vec());
    let ids: Arc<dyn domain::ports::IdGen> = Arc::new(server::wiring::UuidV7);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let base_url = format!("http://{addr}");
    config.public_base_url = base_url.clone();
    let mut state = server::wiring::app_state(
        storage.clone(),
        shared_counter,
        config,
        pepper.clone(),
        Arc::new(clock.clone()),
        ids.clone(),
    )
    .expect("building the app state");
    // Webhook targets on loopback (the test receiver) are allowed; signatures keep the wall
    // clock so that receivers' timestamp windows hold.
    state.webhooks = webhooks::service(
        storage.clone(),
        Arc::new(clock.clone()),
        ids.clone(),
        pepper.expose(),
        webhooks::GuardPolicy {
            allow_loopback_http,
        },
        Arc::new(TestLookup),
        Arc::new(server::wiring::SystemClock),
    )
    .expect("building the webhook service");
    let webhooks = state.webhooks.clone();
    let mail = crate::smtp::MailSink::start().await;
    let mut notifications = notification_service(&storage, &clock, ids.clone(), mail.port());
    if state.config.pages.enabled {
        notifications.links = Some(Arc::new(http_api::routes::pages::link::EmailLinks::new(
            state.links(),
            &base_url,
        )));
    }
    state.metrics = server::wiring::install_metrics().ok();
    let auth_cache = state.auth_cache.clone();
    let reservations = state.reservations.clone();
    tokio::spawn(async move {
        if let Err(e) = server::wiring::serve(state, listener, std::future::pending()).await {
            eprintln!("test server stopped: {e:#}");
        }
    });
    let admin = AdminContext {
        store: storage.clone(),
        clock: Arc::new(clock.clone()),
        ids,
        pepper,
    };
    let anon = ApiClient::new(base_url.clone(), None);
    let a = seed::organization(&admin, &clock, &anon, "Org A", "alice").await;
    let b = seed::organization(&admin, &clock, &anon, "Org B", "bob").await;
    Some(TestApp {
        backend,
        base_url,
        clock,
        store: storage,
        admin,
        auth_cache,
        reservations,
        webhooks,
        wake,
        mail,
        notifications,
        a,
        b,
        anon,
    })
}

/// Notifications over `storage` sent by SMTP (plain, as to a local relay) to the sink on
/// `port`, with the production renderer and decoder.
fn notification_service(
    storage: &Arc<dyn Storage>,
    clock: &TestClock,
    ids: Arc<dyn domain::ports::IdGen>,
    port: u16,
) -> domain::notification_service::NotificationService {
    let sender = notify::Sender::parse(
        "Slotbook Test <bookings@slotbook.test>",
        Some("help@slotbook.test"),
    )
    .expect("test sender");
    let mailer = notify::SmtpMailer::new(
        &notify::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: notify::Security::Plain,
            username: None,
            password: None,
            timeout: std::time::Duration::from_secs(5),
            pool_max: 2,
        },
        sender,
    )
    .expect("test mailer");
    domain::notification_service::NotificationService {
        store: storage.clone(),
        bookings: storage.clone(),
        event_types: storage.clone(),
        directory: storage.clone(),
        decoder: Arc::new(notify::PayloadDecoder),
        renderer: Arc::new(notify::TemplateRenderer),
        mailer: Arc::new(mailer),
        links: None,
        clock: Arc::new(clock.clone()),
        ids,
        reminder_lead: jiff::SignedDuration::from_hours(24),
        send_lease: domain::notification_service::SEND_LEASE,
    }
}

impl TestApp {
    /// Fans out booking outbox messages into notifications and sends every one due at the test
    /// clock's instant, synchronously (the notification worker's steps, without its loop).
    pub async fn drain_notifications(&self) -> domain::notification_service::SendReport {
        self.notifications
            .drain()
            .await
            .expect("draining notifications")
    }

    /// Waits (at most 10 s, then panics) until every idempotency reservation of the server is
    /// settled, including the releases spawned for dropped requests.
    pub async fn idempotency_settled(&self) {
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.reservations.settled(),
        )
        .await
        .expect("idempotency reservations settle within 10 s");
    }

    /// Fans out the outbox and makes every webhook attempt due at the test clock's instant,
    /// synchronously (the worker's steps, without its loop).
    pub async fn drain_webhooks(&self) -> domain::webhook_service::DeliveryReport {
        self.webhooks.drain().await.expect("draining webhooks")
    }

    /// A client without a token.
    pub fn anon(&self) -> ApiClient {
        self.anon.clone()
    }

    /// A client sending `token`.
    pub fn client(&self, token: &str) -> ApiClient {
        self.anon.with_token(Some(token))
    }

    /// The test clock's "now".
    pub fn now(&self) -> Timestamp {
        self.clock.get()
    }

    /// Mints a token for the owner of `org` with exactly `scopes` (aliases allowed) and an
    /// optional expiry in days (42, 90, 180 or 365).
    pub async fn mint_token(
        &self,
        org: &OrgFixture,
        scopes: &[&str],
        expires_in_days: Option<u32>,
    ) -> Minted {
        seed::token(
            &self.admin,
            org.org_id,
            org.owner.user_id,
            scopes,
            expires_in_days,
        )
        .await
    }

    /// As [`TestApp::mint_token`] for another user of `org` (who must be an owner or admin).
    pub async fn mint_token_for(
        &self,
        org: &OrgFixture,
        user_id: Uuid,
        scopes: &[&str],
        expires_in_days: Option<u32>,
    ) -> Minted {
        seed::token(&self.admin, org.org_id, user_id, scopes, expires_in_days).await
    }

    /// Revokes a token through the store and empties the server's authentication cache, so the
    /// revocation takes effect on the next request.
    pub async fn revoke_token(&self, org: &OrgFixture, token: &Minted) {
        seed::revoke(&self.admin, org, token).await;
        self.auth_cache.invalidate_all();
    }

    /// Revokes a token through the store only, as the admin CLI or another server process
    /// would: the running server may keep accepting it for up to
    /// [`AUTH_CACHE_TTL`](crate::AUTH_CACHE_TTL) of its clock.
    pub async fn revoke_token_without_invalidation(&self, org: &OrgFixture, token: &Minted) {
        seed::revoke(&self.admin, org, token).await;
    }

    /// Creates another owner-role user in `org` with both fixture schedules.
    pub async fn create_host(&self, org: &OrgFixture, username: &str) -> Host {
        seed::host(&self.admin, domain::OrganizationId(org.org_id), username).await
    }

    /// Creates another Europe/Berlin schedule for `user_id` of `org` from a CLI rule spec such
    /// as `mon-fri 09:00-17:00`.
    pub async fn create_schedule(
        &self,
        org: &OrgFixture,
        user_id: Uuid,
        name: &str,
        rule: &str,
    ) -> Uuid {
        seed::schedule(
            &self.admin,
            domain::OrganizationId(org.org_id),
            domain::UserId(user_id),
            name,
            rule,
        )
        .await
    }

    /// Creates an event type in `org`.
    pub async fn create_event_type(&self, org: &OrgFixture, spec: EventTypeSpec) -> Uuid {
        seed::event_type(&self.admin, &self.clock, org, spec).await
    }

    /// Switches an event type on or off (a dashboard edit, through the store port).
    pub async fn set_event_type_active(&self, org: &OrgFixture, id: Uuid, active: bool) {
        seed::set_active(&self.admin, org, id, active).await;
    }

    /// `POST /v1/bookings` for `event_type_id` at `start` with `org`'s token; asserts 201 and
    /// returns `data`.
    pub async fn book(&self, org: &OrgFixture, event_type_id: Uuid, start: Timestamp) -> Value {
        self.book_as(org, event_type_id, start, "ann@example.com")
            .await
    }

    /// As [`TestApp::book`] with a given attendee e-mail.
    pub async fn book_as(
        &self,
        org: &OrgFixture,
        event_type_id: Uuid,
        start: Timestamp,
        email: &str,
    ) -> Value {
        let r = self.try_book(org, event_type_id, start, email).await;
        r.ok(201).clone()
    }

    /// `POST /v1/bookings` without asserting the outcome.
    pub async fn try_book(
        &self,
        org: &OrgFixture,
        event_type_id: Uuid,
        start: Timestamp,
        email: &str,
    ) -> Resp {
        let body = json!({
            "event_type_id": event_type_id,
            "start": crate::time::wire(start),
            "attendee": {"email": email, "name": "Ann Attendee", "timezone": "Europe/Berlin"},
        });
        org.api
            .post_json("/v1/bookings", &body, Some(&crate::key()))
            .await
    }

    /// `GET /v1/bookings/{uid}` with `org`'s token; asserts 200 and returns `data`.
    pub async fn get_booking(&self, org: &OrgFixture, uid: &str) -> Value {
        org.api
            .get(&format!("/v1/bookings/{uid}"))
            .await
            .ok(200)
            .clone()
    }
}

/// OAuth tokens issued by [`TestApp::oauth_tokens`] to a public client.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub client_id: String,
    pub access: String,
    pub refresh: String,
}

/// A registered OAuth client (its secret for confidential clients).
#[derive(Debug, Clone)]
pub struct OAuthClientFixture {
    pub client_id: String,
    pub secret: Option<String>,
}

impl TestApp {
    /// The OAuth use cases over this app's store, clock and pepper.
    pub fn oauth_service(&self) -> domain::oauth_service::OAuthService {
        domain::oauth_service::OAuthService {
            store: self.store.clone(),
            directory: self.store.clone(),
            secrets: Arc::new(auth::oauth::OAuthTokens::new(self.admin.pepper.clone())),
            passwords: Arc::new(http_api::oauth_password::Argon2Passwords),
            clock: Arc::new(self.clock.clone()),
            ids: self.admin.ids.clone(),
        }
    }

    /// Registers an OAuth client.
    pub async fn create_oauth_client(
        &self,
        confidential: bool,
        redirect_uris: &[&str],
        scopes: &[&str],
    ) -> OAuthClientFixture {
        let created = self
            .oauth_service()
            .create_client(domain::oauth_service::NewClient {
                name: "Test App".into(),
                kind: if confidential {
                    domain::oauth::ClientKind::Confidential
                } else {
                    domain::oauth::ClientKind::Public
                },
                redirect_uris: redirect_uris.iter().map(|s| (*s).to_owned()).collect(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                dynamic: false,
            })
            .await
            .expect("creating an OAuth client");
        OAuthClientFixture {
            client_id: created.client.client_id,
            secret: created.secret,
        }
    }

    /// Revokes an OAuth client (and every token issued to it).
    pub async fn revoke_oauth_client(&self, client_id: &str) {
        assert!(
            self.oauth_service()
                .revoke_client(client_id)
                .await
                .expect("revoking")
        );
    }

    /// OAuth tokens for `user_id` of `org` with exactly `scopes` (plus `offline_access`, so a
    /// refresh token comes along), issued by the real use cases without the sign-in pages:
    /// a public client allowed every scope, a validated authorization request (PKCE S256 with
    /// the RFC 7636 appendix B pair), the user's consent and the code exchange. The pages and
    /// the token endpoint are tested through HTTP in `tests/it/oauth*.rs`.
    pub async fn oauth_tokens(
        &self,
        org: &OrgFixture,
        user_id: Uuid,
        scopes: &[&str],
    ) -> OAuthTokens {
        use domain::oauth_service::{AuthorizeRequest, ClientCredentials};
        const REDIRECT: &str = "https://app.example/cb";
        const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let mut allowed: Vec<&str> = crate::ALL_SCOPES.to_vec();
        allowed.push("offline_access");
        let client = self.create_oauth_client(false, &[REDIRECT], &allowed).await;
        let svc = self.oauth_service();
        let mut asked: Vec<&str> = scopes.to_vec();
        asked.push("offline_access");
        let req = AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(client.client_id.clone()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some(asked.join(" ")),
            state: None,
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
        };
        let auth = svc
            .validate_authorization(&req)
            .await
            .expect("a valid authorization request");
        let user = svc
            .user(
                domain::ids::OrganizationId(org.org_id),
                domain::ids::UserId(user_id),
            )
            .await
            .expect("reading the user")
            .expect("the user exists");
        let code = svc.approve(&auth, &user).await.expect("consent");
        let issued = svc
            .exchange_code(
                &ClientCredentials::None {
                    client_id: client.client_id.clone(),
                },
                Some(&code),
                Some(REDIRECT),
                Some(VERIFIER),
            )
            .await
            .expect("the code exchange");
        OAuthTokens {
            client_id: client.client_id,
            access: issued.access_token,
            refresh: issued
                .refresh_token
                .expect("offline_access gives a refresh token"),
        }
    }

    /// Changes a user's role through the admin function the CLI runs, as another process
    /// would: the server's caches are not told.
    pub async fn set_role(
        &self,
        org: &OrgFixture,
        user_id: Uuid,
        role: domain::organization::Role,
    ) {
        server::admin::set_role(
            &self.admin,
            domain::ids::OrganizationId(org.org_id),
            domain::ids::UserId(user_id),
            role,
        )
        .await
        .expect("setting the role");
    }

    /// Removes a user through the admin function the CLI runs, as another process would: the
    /// server's caches are not told.
    pub async fn remove_user(&self, org: &OrgFixture, user_id: Uuid) {
        server::admin::remove_user(
            &self.admin,
            domain::ids::OrganizationId(org.org_id),
            domain::ids::UserId(user_id),
        )
        .await
        .expect("removing the user");
    }

    /// Sets the sign-in password of `org`'s owner (through the admin function the CLI runs).
    pub async fn set_owner_password(&self, org: &OrgFixture, password: &str) {
        server::admin::set_password(
            &self.admin,
            domain::ids::OrganizationId(org.org_id),
            domain::ids::UserId(org.owner.user_id),
            secrecy::SecretString::from(password.to_owned()),
        )
        .await
        .expect("setting the password");
    }
}

#[cfg(test)]
mod tests {
    use super::CLOCK_START;

    #[test]
    fn the_clock_starts_on_a_fixed_monday_morning() {
        assert_eq!(CLOCK_START.to_string(), "2027-01-11T06:00:00Z");
        let berlin = CLOCK_START.in_tz("Europe/Berlin").unwrap();
        assert_eq!(berlin.weekday(), jiff::civil::Weekday::Monday);
        assert_eq!(berlin.hour(), 7);
    }
}
