//! Shared application state handed to every handler.

use domain::booking_page::BookingPageService;
use domain::booking_page::link::InviteeLinks;
use domain::booking_service::BookingService;
use domain::directory_service::{DirectoryService, Password, PasswordHasher};
use domain::event_type_service::EventTypeService;
use domain::ports::{Clock, EventEncoder, IdGen, RateLimitCounter, Storage};
use domain::schedule_service::ScheduleService;
use domain::slot_service::SlotService;
use domain::token_service::TokenService;
use domain::webhook_service::SecretBox;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The application services (every use case except bookings), each over only the ports it
/// needs. Handlers parse, call one of these and render.
#[derive(Clone)]
pub struct Services {
    pub slots: SlotService,
    pub event_types: EventTypeService,
    pub schedules: ScheduleService,
    pub directory: DirectoryService,
    pub tokens: TokenService,
    /// The public booking pages (over the same slot and booking services as `/v1`).
    pub pages: BookingPageService,
}

/// The invitees' self-service links over `store`: tokens and peppered hashes from
/// `auth::link`, sealed copies by `sealer` — the webhook secrets' `SecretBox`
/// (`webhooks::SealedSecrets`, keyed from the same pepper). [`AppState::links`] and the server's
/// notification worker build it so.
pub fn invitee_links(
    store: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    pepper: &auth::Pepper,
    sealer: Arc<dyn SecretBox>,
) -> InviteeLinks {
    InviteeLinks::new(
        store,
        Arc::new(auth::link::LinkTokens::new(pepper.clone())),
        sealer,
        clock,
    )
}

impl Services {
    /// Builds every service over one storage (PATs hashed with `pepper`, passwords with
    /// argon2id off the async runtime).
    pub fn new(
        store: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        encoder: Arc<dyn EventEncoder>,
        pepper: auth::Pepper,
    ) -> Self {
        let slots = SlotService::new(store.clone(), store.clone(), store.clone(), clock.clone());
        let pages = BookingPageService::new(
            store.clone(),
            store.clone(),
            store.clone(),
            slots.clone(),
            BookingService::over(store.clone(), clock.clone(), ids.clone(), encoder.clone()),
            clock.clone(),
        );
        Self {
            pages,
            slots,
            event_types: EventTypeService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                clock.clone(),
                ids.clone(),
                encoder.clone(),
            ),
            schedules: ScheduleService::new(
                store.clone(),
                store.clone(),
                clock.clone(),
                ids.clone(),
                encoder,
            ),
            directory: DirectoryService::new(
                store.clone(),
                Arc::new(Argon2Hasher),
                clock.clone(),
                ids.clone(),
            ),
            tokens: TokenService::new(
                store.clone(),
                store.clone(),
                Arc::new(auth::pat::PatSecrets::new(pepper.clone())),
                store,
                Arc::new(auth::oauth::OAuthTokens::new(pepper)),
                clock,
                ids,
            ),
        }
    }
}

/// argon2id password hashes, computed in `spawn_blocking`.
#[derive(Debug, Clone, Copy)]
pub struct Argon2Hasher;

#[async_trait::async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let pw = password.clone();
        Ok(tokio::task::spawn_blocking(move || auth::password::hash(pw.expose())).await??)
    }
}

/// Settings the HTTP layer needs (the server crate builds them from configuration).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Public base URL without trailing slash, e.g. `https://api.example.com`; used for
    /// `url` fields, `Link` headers and discovery documents.
    pub public_base_url: String,
    /// Requests per 60-second window for personal access tokens (120) and OAuth tokens.
    pub authenticated_per_minute: u64,
    /// Requests per 60-second window for anonymous callers, per IP (30).
    pub anonymous_per_minute: u64,
    /// Per-request timeout.
    pub request_timeout: std::time::Duration,
    /// How long a request's work may outlast `request_timeout`: the pool acquire timeout plus
    /// the write-lock timeout, which bound the release a dropped request spawns (and any
    /// statement still finishing). The idempotency lease is `request_timeout` plus this
    /// ([`ApiConfig::idempotency_lease`]), so it exceeds the request timeout by construction.
    pub idempotency_margin: std::time::Duration,
    /// Body limit for JSON endpoints (64 KiB).
    pub body_limit_bytes: usize,
    /// Trust `X-Forwarded-For` only from these peer addresses.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `[oauth] dynamic_registration`: RFC 7591 registration on (off by default).
    pub oauth_dynamic_registration: bool,
    /// `[pages]`: the public booking pages.
    pub pages: PagesConfig,
    /// `[rate_limit] shared_timeout_ms`: the longest a request waits for the shared
    /// rate-limit counter (250 ms); then it is allowed (fail-open) by the in-process count.
    pub shared_counter_timeout: std::time::Duration,
    /// `[metrics] token`: when set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (compared in constant time) and 401 otherwise. `None`: open, as before.
    pub metrics_token: Option<MetricsToken>,
}

/// The bearer token `/metrics` requires (`[metrics] token`). Kept as its SHA-256 digest, so the
/// comparison is constant-time over a fixed length; `Debug` never shows it.
#[derive(Clone)]
pub struct MetricsToken {
    digest: [u8; 32],
}

impl MetricsToken {
    /// The token `token` (at least [`MetricsToken::MIN_LEN`] characters, checked by the server's
    /// configuration).
    pub fn new(token: &str) -> Self {
        Self {
            digest: digest(token),
        }
    }

    /// Shortest accepted token.
    pub const MIN_LEN: usize = 16;

    /// Whether `presented` is the token, in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        auth::oauth::constant_time_eq(&digest(presented), &self.digest)
    }
}

fn digest(text: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// Settings of the public booking pages (`[pages]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesConfig {
    /// Serve `/{username}`, `/{username}/{slug}` and the invitee pages (true).
    pub enabled: bool,
    /// Page views (GET) per 60-second window per client IP (120): bucket `page_view`.
    pub views_per_minute: u64,
    /// Form submissions (POST) per 60-second window per client IP (10): bucket `page_submit`.
    pub submissions_per_minute: u64,
    /// The CSP `frame-ancestors` sources allowed to embed the pages (`'none'`).
    pub frame_ancestors: String,
}

impl Default for PagesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            views_per_minute: 120,
            submissions_per_minute: 10,
            frame_ancestors: "'none'".into(),
        }
    }
}

impl ApiConfig {
    /// How long an unfinished idempotency reservation stays its request's before another
    /// request may take the key over: `request_timeout + idempotency_margin`. A request still
    /// alive has settled its reservation by then (completed it, or released it — on error, or
    /// from its guard's `Drop` when the request was dropped); only a reservation whose process
    /// died is left, and it stops blocking retries when the lease ends.
    pub fn idempotency_lease(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.request_timeout + self.idempotency_margin)
            .unwrap_or(jiff::SignedDuration::MAX)
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_base_url: "http://127.0.0.1:8080".into(),
            authenticated_per_minute: 120,
            anonymous_per_minute: 30,
            request_timeout: std::time::Duration::from_secs(30),
            // `[database] acquire_timeout_ms` (2 s) + the stores' 5 s lock timeout.
            idempotency_margin: std::time::Duration::from_secs(7),
            body_limit_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            oauth_dynamic_registration: false,
            pages: PagesConfig::default(),
            shared_counter_timeout: std::time::Duration::from_millis(250),
            metrics_token: None,
        }
    }
}

/// Everything handlers reach, behind one `Arc`: axum clones the state for every layer built
/// with `from_fn_with_state` and every handler call, so a clone must be one reference-count
/// increment, not one per field (plus the authentication cache's internals). Fields are read
/// through `Deref`; `DerefMut` copies on write ([`Arc::make_mut`]), so assigning a field of a
/// clone never changes another clone — the value semantics of a plain struct.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The fields of [`AppState`]; build one and convert it with [`AppState::new`] or `into()`.
#[derive(Clone)]
pub struct AppStateInner {
    pub config: Arc<ApiConfig>,
    pub store: Arc<dyn Storage>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    /// Booking use cases (create, cancel, reschedule, patch, get, list).
    pub bookings: BookingService,
    /// OAuth 2.1 use cases (authorization server and `42min_at_` bearer tokens).
    pub oauth: domain::oauth_service::OAuthService,
    /// Every other use case.
    pub services: Services,
    /// Webhook use cases (management API and the test delivery).
    pub webhooks: domain::webhook_service::WebhookService,
    /// The server-side pepper for token hashes.
    pub pepper: auth::Pepper,
    /// Shared fixed-window counters; `None` = in-process counters.
    pub shared_counter: Option<Arc<dyn RateLimitCounter>>,
    /// In-process rate-limit state.
    pub limiter: Arc<crate::rate_limit::RateLimiter>,
    /// Set when SIGTERM arrived: `/readyz` answers 503 while the server drains.
    pub draining: Arc<AtomicBool>,
    /// Recently authenticated tokens (see [`crate::auth_cache`] for the staleness bound).
    pub auth_cache: crate::auth_cache::AuthCache,
    /// Idempotency reservations not yet settled (see [`crate::idempotency`]).
    pub reservations: crate::idempotency::Reservations,
    /// Renders `/metrics`.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    /// Shares `inner`.
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }

    /// The invitees' self-service links (`/_b/<token>`) over this state's store, sealed by the
    /// webhook service's `SecretBox` (a few `Arc` clones: built per use).
    pub fn links(&self) -> InviteeLinks {
        invitee_links(
            self.store.clone(),
            self.clock.clone(),
            &self.pepper,
            self.webhooks.secrets.clone(),
        )
    }

    /// Forgets the cached authentication of one token (by public lookup id): call after
    /// revoking it, or regenerating its secret, in this process.
    pub async fn invalidate_token(&self, lookup: &str) {
        self.auth_cache.invalidate_token(lookup).await;
    }

    /// Forgets every cached authentication: call after revoking tokens or removing users in
    /// this process when the lookup ids are not at hand.
    pub fn invalidate_all(&self) {
        self.auth_cache.invalidate_all();
    }
}

impl From<AppStateInner> for AppState {
    fn from(inner: AppStateInner) -> Self {
        Self::new(inner)
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut AppStateInner {
        Arc::make_mut(&mut self.0)
    }
}
