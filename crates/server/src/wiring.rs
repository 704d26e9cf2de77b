//! Wiring: the only place that names concrete adapters. Opens the store the database URL's
//! scheme selects (at run time, never through `cfg`), builds the HTTP state and serves it with a
//! graceful drain.
//!
//! Both stores are migrated when opened (forward-only migrations; on Postgres sqlx takes an
//! advisory lock, so several servers starting together are safe).

use crate::config::Backend;
use anyhow::Context as _;
use domain::booking_service::BookingService;
use domain::ports::{Clock, IdGen, RateLimitCounter, Storage};
use http_api::state::{AppStateInner, Services};
use http_api::{ApiConfig, AppState};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// An opened, migrated store.
pub struct Opened {
    pub storage: Arc<dyn Storage>,
    /// Shared rate-limit counters the backend offers (Postgres), if any.
    pub shared_counter: Option<Arc<dyn RateLimitCounter>>,
    /// Woken when new webhook work may exist: after every SQLite write commit; on Postgres
    /// once [`start_listening`] runs, for every `NOTIFY slotbook_webhooks`.
    pub wake: Arc<tokio::sync::Notify>,
    pg: Option<Arc<store_postgres::PgStore>>,
    sqlite: Option<store_sqlite::SqliteStore>,
}

impl Opened {
    /// Whether a SQLite database already holds tokens or secrets keyed by a pepper (`false`
    /// on Postgres, whose pepper is always configured).
    pub async fn holds_peppered_secrets(&self) -> anyhow::Result<bool> {
        match &self.sqlite {
            Some(s) => s.holds_peppered_secrets().await,
            None => Ok(false),
        }
    }
}

/// Starts the Postgres `LISTEN` that wakes [`Opened::wake`] (no-op on SQLite, whose wake-up
/// is in-process).
pub async fn start_listening(opened: &Opened) -> anyhow::Result<()> {
    if let Some(pg) = &opened.pg {
        pg.listen_webhooks(opened.wake.clone())
            .await
            .context("LISTEN slotbook_webhooks")?;
    }
    Ok(())
}

/// How [`open_store_with`] opens a store (`[database]`).
#[derive(Debug, Clone, Copy)]
pub struct StoreSettings {
    pub acquire_timeout: Duration,
    pub max_connections: u32,
    pub sqlite_synchronous: store_sqlite::Synchronous,
    pub sqlite_writer_queue: usize,
    /// Postgres: connections of the shared rate-limit counters' own pool (`[rate_limit]
    /// shared_pool_size`), so a rate-limit check never queues behind request work.
    pub counter_connections: u32,
    /// Postgres: that pool's acquire timeout (`[rate_limit] shared_timeout_ms`).
    pub counter_acquire_timeout: Duration,
}

impl Default for StoreSettings {
    /// The built-in defaults (`defaults.toml`).
    fn default() -> Self {
        let sqlite = store_sqlite::SqliteSettings::default();
        Self {
            acquire_timeout: sqlite.acquire_timeout,
            max_connections: store_postgres::PgSettings::default().max_connections,
            sqlite_synchronous: sqlite.synchronous,
            sqlite_writer_queue: sqlite.writer_queue,
            counter_connections: 2,
            counter_acquire_timeout: Duration::from_millis(250),
        }
    }
}

/// Opens and migrates the store `url` selects: `sqlite:…` or `postgres://…`, with the
/// default [`StoreSettings`].
pub async fn open_store(url: &str) -> anyhow::Result<Opened> {
    open_store_with(url, &StoreSettings::default()).await
}

/// [`open_store`] with explicit settings.
pub async fn open_store_with(url: &str, settings: &StoreSettings) -> anyhow::Result<Opened> {
    match Backend::from_url(url)? {
        Backend::Sqlite => {
            let store = store_sqlite::SqliteStore::connect_with(
                url,
                &store_sqlite::SqliteSettings {
                    acquire_timeout: settings.acquire_timeout,
                    synchronous: settings.sqlite_synchronous,
                    writer_queue: settings.sqlite_writer_queue,
                    ..store_sqlite::SqliteSettings::default()
                },
            )
            .await?;
            store.migrate().await?;
            Ok(Opened {
                wake: store.commit_signal(),
                storage: Arc::new(store.clone()),
                shared_counter: None,
                pg: None,
                sqlite: Some(store),
            })
        }
        Backend::Postgres => {
            let store = store_postgres::PgStore::connect_settings(
                url,
                &store_postgres::PgSettings {
                    max_connections: settings.max_connections,
                    acquire_timeout: settings.acquire_timeout,
                },
            )
            .await
            .context("connecting to Postgres (database.url)")?;
            store.migrate().await?;
            let counter = store_postgres::PgRateLimitCounter::connect(
                url,
                &store_postgres::PgSettings {
                    max_connections: settings.counter_connections,
                    acquire_timeout: settings.counter_acquire_timeout,
                },
            )
            .context("the shared rate-limit counters' pool (database.url)")?;
            let store = Arc::new(store);
            Ok(Opened {
                storage: store.clone(),
                shared_counter: Some(Arc::new(counter)),
                wake: Arc::new(tokio::sync::Notify::new()),
                pg: Some(store),
                sqlite: None,
            })
        }
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// Time-ordered UUIDv7 identifiers.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7;

impl IdGen for UuidV7 {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}

/// The webhook use cases over `storage` with the real adapters (`crates/webhooks`): the
/// guard and client under `policy`, the system resolver, signatures stamped by the system
/// clock, secrets sealed under a key derived from the pepper.
pub fn webhook_service(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    pepper: &auth::Pepper,
    policy: webhooks::GuardPolicy,
) -> anyhow::Result<domain::webhook_service::WebhookService> {
    webhooks::service(
        storage,
        clock,
        ids,
        pepper.expose(),
        policy,
        Arc::new(webhooks::SystemLookup),
        Arc::new(SystemClock),
    )
}

/// The notification use cases over `storage` with the real adapters (`crates/notify`) under
/// `[notifications]`, and a sentence saying where the messages go (for start-up output).
pub fn notification_service(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    config: &crate::notify_config::NotificationsConfig,
) -> anyhow::Result<(domain::notification_service::NotificationService, String)> {
    use crate::notify_config::SmtpSecurity;
    let sender = notify::Sender::parse(&config.from, config.reply_to.as_deref())
        .map_err(anyhow::Error::msg)?;
    let (mailer, destination): (Arc<dyn domain::notification_service::Mailer>, String) =
        match &config.smtp {
            Some(s) => {
                let m = notify::SmtpMailer::new(
                    &notify::SmtpSettings {
                        host: s.host.clone(),
                        port: s.port,
                        security: match s.security {
                            SmtpSecurity::Starttls => notify::Security::StartTls,
                            SmtpSecurity::Tls => notify::Security::Tls,
                            SmtpSecurity::Plain => notify::Security::Plain,
                        },
                        username: s.username.clone(),
                        password: s.password.clone(),
                        timeout: Duration::from_secs(s.timeout_secs.max(1)),
                        pool_max: s.pool_max,
                    },
                    sender,
                )
                .map_err(anyhow::Error::msg)?;
                let d = format!("e-mails are sent through {}", m.describe());
                (Arc::new(m), d)
            }
            None => {
                let dir = std::path::absolute(&config.file_dir)
                    .unwrap_or_else(|_| config.file_dir.clone());
                let d = format!(
                    "no SMTP relay is configured: every e-mail is written as an .eml file into {} \
                     (open it with any mail client; set [notifications.smtp] host to send real mail)",
                    dir.display()
                );
                (Arc::new(notify::FileMailer::new(dir, sender)), d)
            }
        };
    let service = domain::notification_service::NotificationService {
        store: storage.clone(),
        bookings: storage.clone(),
        event_types: storage.clone(),
        directory: storage,
        decoder: Arc::new(notify::PayloadDecoder),
        renderer: Arc::new(notify::TemplateRenderer),
        mailer,
        links: None,
        clock,
        ids,
        reminder_lead: jiff::SignedDuration::from_hours(i64::from(config.reminder_hours)),
        send_lease: jiff::SignedDuration::from_secs(
            i64::try_from(config.lease_secs).unwrap_or(i64::MAX),
        ),
    };
    Ok((service, destination))
}

/// The e-mails' self-service links (the attendee's `/_b/<token>` under `public_base_url`) over
/// `storage`, with the pepper the server runs with (link hashes, and the sealing key of
/// `webhooks::SealedSecrets`, as the HTTP state uses); set as `NotificationService::links` when
/// the booking pages are on.
pub fn email_links(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    pepper: &auth::Pepper,
    public_base_url: &str,
) -> anyhow::Result<Arc<dyn domain::notification_service::SelfServiceLinks>> {
    let sealer = Arc::new(webhooks::SealedSecrets::new(pepper.expose())?);
    Ok(Arc::new(http_api::routes::pages::link::EmailLinks::new(
        http_api::state::invitee_links(storage, clock, pepper, sealer),
        public_base_url,
    )))
}

/// The OAuth use cases over `storage`, with token hashes keyed by `pepper`.
pub fn oauth_service(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    pepper: &auth::Pepper,
) -> domain::oauth_service::OAuthService {
    domain::oauth_service::OAuthService {
        store: storage.clone(),
        directory: storage,
        secrets: Arc::new(auth::oauth::OAuthTokens::new(pepper.clone())),
        passwords: Arc::new(http_api::oauth_password::Argon2Passwords),
        clock,
        ids,
    }
}

/// The webhook payload encoder of the wire format, with links under `public_base_url`.
pub fn event_encoder(public_base_url: &str) -> Arc<dyn domain::ports::EventEncoder> {
    Arc::new(api_types::webhook::WebhookEncoder::new(
        public_base_url.trim_end_matches('/'),
    ))
}

/// Builds the HTTP state. `metrics` is `None`; `serve` callers set it from [`install_metrics`].
/// Webhooks use the default policy (no loopback); callers replace `state.webhooks` to change it.
pub fn app_state(
    storage: Arc<dyn Storage>,
    shared_counter: Option<Arc<dyn RateLimitCounter>>,
    api_config: ApiConfig,
    pepper: auth::Pepper,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
) -> anyhow::Result<AppState> {
    let encoder = event_encoder(&api_config.public_base_url);
    let deps = BookingService::over(storage.clone(), clock.clone(), ids.clone(), encoder.clone());
    let oauth = oauth_service(storage.clone(), clock.clone(), ids.clone(), &pepper);
    let webhooks = webhook_service(
        storage.clone(),
        clock.clone(),
        ids.clone(),
        &pepper,
        webhooks::GuardPolicy::default(),
    )?;
    let services = Services::new(
        storage.clone(),
        clock.clone(),
        ids.clone(),
        encoder,
        pepper.clone(),
    );
    Ok(AppState::new(AppStateInner {
        webhooks,
        oauth,
        config: Arc::new(api_config),
        store: storage,
        clock,
        ids,
        bookings: deps,
        services,
        pepper,
        shared_counter,
        limiter: Arc::new(http_api::rate_limit::RateLimiter::default()),
        draining: Arc::new(AtomicBool::new(false)),
        auth_cache: http_api::auth_cache::AuthCache::new(),
        reservations: Default::default(),
        metrics: None,
    }))
}

/// How often the recorder drains its histogram buffers when nobody scrapes `/metrics`.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the global Prometheus recorder on first call and returns its handle; later calls
/// return the same handle (a process has one global recorder). Also starts the recorder's
/// upkeep on a small background thread: without it every recorded latency stays buffered until
/// the next scrape, so memory would grow with the request count on an unscraped server.
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("installing the Prometheus metrics recorder")?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(METRICS_UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        })
        .context("starting the metrics upkeep thread")?;
    Ok(handle)
}

/// How long in-flight requests may take to finish after the shutdown signal before the server
/// stops waiting for them (with [`serve`]; `serve_with` takes it from `[http]`).
pub const DRAIN_GRACE: Duration = Duration::from_secs(30);

/// [`serve_with`] under the default connection limits, no grace period and a drain of
/// [`DRAIN_GRACE`] plus the request timeout.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = crate::http_server::ConnLimits {
        drain_timeout: DRAIN_GRACE + state.config.request_timeout,
        ..crate::http_server::ConnLimits::default()
    };
    serve_with(state, listener, limits, shutdown).await
}

/// Serves `state` on `listener` through [`crate::http_server`] until `shutdown` completes,
/// then marks the state as draining (`/readyz` → 503), keeps serving for the grace period,
/// stops accepting connections and lets in-flight requests finish (at most the drain timeout).
pub async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    limits: crate::http_server::ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_tls(state, listener, limits, None, shutdown).await
}

/// [`serve_with`], terminating TLS on every connection when `tls` is given.
pub async fn serve_with_tls(
    state: AppState,
    listener: tokio::net::TcpListener,
    limits: crate::http_server::ConnLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let draining = state.draining.clone();
    let reservations = state.reservations.clone();
    let app = http_api::app(state);
    crate::http_server::serve(app, listener, limits, tls, draining, shutdown)
        .await
        .context("HTTP server failed")?;
    // Requests cut off by the deadline released their idempotency keys on spawned tasks; let
    // those finish (bounded) so a client's retry on another instance is not refused.
    if tokio::time::timeout(Duration::from_secs(2), reservations.settled())
        .await
        .is_err()
    {
        tracing::warn!("idempotency releases still pending at exit; their leases will expire");
    }
    tracing::info!("server stopped");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
