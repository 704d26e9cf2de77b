//! The command line: `slotbook serve | migrate | demo | admin …` (clap derive).
//!
//! Every command loads the same layered configuration (`--config`, `SLOTBOOK_CONFIG`,
//! `slotbook.toml`, `SLOTBOOK__…`; `--database-url` overrides `database.url`) and delegates to
//! library functions; this module only parses arguments and prints results. Standard output
//! carries results (a minted token appears there exactly once); logs go to standard error.

mod admin;
mod admin_notifications;
mod admin_oauth;
mod admin_webhooks;

use crate::admin::AdminContext;
use crate::config::Config;
use crate::wiring::{self, Opened, SystemClock, UuidV7};
use crate::{demo, pepper, telemetry};
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use http_api::ApiConfig;
use secrecy::ExposeSecret as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Slotbook: a self-hostable scheduling server speaking the 42min REST API v1.
#[derive(Debug, Parser)]
#[command(name = "slotbook", version)]
pub struct Cli {
    /// TOML configuration file (default: slotbook.toml in the working directory, if present).
    #[arg(long, global = true, env = "SLOTBOOK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Overrides `database.url` (sqlite://PATH?mode=rwc or postgres://…).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server until SIGTERM or Ctrl-C, then drain in-flight requests.
    Serve {
        /// Before serving, create demo data and print a token plus curl commands if the
        /// database has no organization yet.
        #[arg(long)]
        demo: bool,
    },
    /// Run only the workers (webhook deliveries, notification e-mails) until SIGTERM or Ctrl-C.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Create demo data (or a new token for the existing demo user) and print the token once.
    Demo,
    /// Administer organizations, users, schedules, event types and tokens.
    Admin {
        /// Print exactly one JSON object (or array) on standard output instead of text.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    webhooks::install_crypto_provider();
    let config = Config::load(cli.config.as_deref(), cli.database_url.as_deref())?;
    telemetry::init(&config.log)?;
    match cli.command {
        Command::Serve { demo } => serve(&config, demo).await,
        Command::Worker => worker(&config).await,
        Command::Migrate => {
            open(&config).await?;
            println!("database migrated: {}", config.database.redacted_url());
            Ok(())
        }
        Command::Demo => {
            let (ctx, _) = context(&config).await?;
            let data = demo::demo(&ctx).await?;
            let base = config.http.public_base_url(config.http.listen_addr()?);
            print_out(&demo::instructions(&data, &base, ctx.clock.now()))
        }
        Command::Admin { json, command } => {
            let (ctx, _) = context(&config).await?;
            let format = if json {
                admin::Format::Json
            } else {
                admin::Format::Text
            };
            admin::run(&ctx, command, format).await
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Opened> {
    let url = config.database.url.expose_secret();
    tracing::info!(database = %config.database.redacted_url(), "opening database");
    wiring::open_store_with(url, &config.store_settings())
        .await
        .with_context(|| format!("opening {}", config.database.redacted_url()))
}

/// Opens the store and resolves the pepper: everything the administrative commands need.
pub async fn context(config: &Config) -> anyhow::Result<(AdminContext, Opened)> {
    let opened = open(config).await?;
    let holds_secrets = opened.holds_peppered_secrets().await?;
    let pepper = pepper::resolve(config, holds_secrets)?;
    let ctx = AdminContext {
        store: opened.storage.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper,
    };
    Ok((ctx, opened))
}

/// The HTTP layer's settings for a server bound to `bound`.
pub fn api_config(config: &Config, bound: SocketAddr) -> ApiConfig {
    ApiConfig {
        public_base_url: config.http.public_base_url(bound),
        authenticated_per_minute: config.rate_limit.authenticated_per_minute,
        anonymous_per_minute: config.rate_limit.anonymous_per_minute,
        request_timeout: config.http.request_timeout(),
        idempotency_margin: config.idempotency_margin(),
        body_limit_bytes: config.http.body_limit_bytes,
        trusted_proxies: config.http.trusted_proxies.clone(),
        oauth_dynamic_registration: config.oauth.dynamic_registration,
        pages: http_api::state::PagesConfig {
            enabled: config.pages.enabled,
            views_per_minute: config.pages.views_per_minute,
            submissions_per_minute: config.pages.submissions_per_minute,
            frame_ancestors: config.pages.frame_ancestors.clone(),
        },
        shared_counter_timeout: config.rate_limit.shared_timeout(),
        metrics_token: config.metrics.token(),
    }
}

async fn serve(config: &Config, with_demo: bool) -> anyhow::Result<()> {
    let nofile = crate::http_server::raise_nofile_limit();
    let limits = config.http.conn_limits(nofile);
    if limits.max_connections < config.http.max_connections {
        tracing::warn!(
            configured = config.http.max_connections,
            in_force = limits.max_connections,
            open_file_limit = ?nofile,
            "http.max_connections lowered to stay below the open file limit"
        );
    }
    // Certificate problems stop the start-up before anything else is opened.
    let tls = match &config.http.tls {
        Some(t) => {
            let cert = Arc::new(crate::tls::ReloadingCert::load(t.paths())?);
            Some((crate::tls::acceptor(cert.clone())?, cert))
        }
        None => None,
    };
    let (ctx, opened) = context(config).await?;
    let listen = config.http.listen_addr()?;
    let listener = crate::http_server::bind(listen, config.http.max_connections)
        .with_context(|| format!("binding http.listen {listen}"))?;
    let bound = listener.local_addr()?;
    let api = api_config(config, bound);
    let base = api.public_base_url.clone();

    if ctx.store.list_organizations().await?.is_empty() {
        if with_demo {
            let data = demo::demo(&ctx).await?;
            print_out(&demo::instructions(&data, &base, ctx.clock.now()))?;
        } else {
            print_out(&first_start_message())?;
        }
    } else if with_demo {
        print_out(
            "Organizations exist already; --demo skipped. Run `slotbook demo` to mint a new demo token.\n",
        )?;
    }

    let shared_counter = if config.use_shared_counters() {
        opened.shared_counter.clone()
    } else {
        None
    };
    let mut state = wiring::app_state(
        opened.storage.clone(),
        shared_counter,
        api,
        ctx.pepper.clone(),
        ctx.clock.clone(),
        ctx.ids.clone(),
    )?;
    state.webhooks = webhook_service(config, &ctx, &opened)?;
    state.metrics = if config.metrics.enabled {
        Some(wiring::install_metrics()?)
    } else {
        None
    };
    let worker = if config.webhooks.worker {
        wiring::start_listening(&opened).await?;
        Some(crate::worker::Worker::start(
            state.webhooks.clone(),
            opened.storage.clone(),
            opened.wake.clone(),
            crate::worker::WorkerSettings::from_config(
                &config.webhooks,
                config.notifications.enabled,
            ),
        ))
    } else {
        None
    };

    let notifier = start_notifications(config, &ctx, &opened, config.notifications.worker)?;

    tracing::info!(address = %bound, base_url = %base, backend = opened.storage.backend(), "listening");
    let acceptor = match tls {
        Some((acceptor, cert)) => {
            crate::tls::reload_on_sighup(cert)?;
            Some(acceptor)
        }
        None => None,
    };
    print_out(&format!(
        "listening on {}://{bound}\n",
        config.http.scheme()
    ))?;
    let served =
        wiring::serve_with_tls(state, listener, limits, acceptor, wiring::shutdown_signal()).await;
    if let Some(w) = worker {
        w.stop(WORKER_GRACE).await;
    }
    if let Some(n) = notifier {
        n.stop(WORKER_GRACE).await;
    }
    // Idle connections close at once; a connection held for good (the Postgres LISTEN of the
    // webhook wake-up) is dropped at exit instead of being waited for.
    if tokio::time::timeout(POOL_CLOSE_WAIT, opened.storage.close())
        .await
        .is_ok()
    {
        tracing::info!("database connections closed");
    } else {
        tracing::info!("database pool closed; connections still held are dropped at exit");
    }
    served
}

/// How long shutdown waits for the database pool to close its connections.
const POOL_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How long the worker may finish attempts in flight after shutdown (one attempt's timeout).
const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(11);

/// The webhook use cases under `[webhooks]`; warns loudly when loopback targets are allowed.
fn webhook_service(
    config: &Config,
    ctx: &AdminContext,
    opened: &Opened,
) -> anyhow::Result<domain::webhook_service::WebhookService> {
    let policy = webhooks::GuardPolicy {
        allow_loopback_http: config.webhooks.allow_loopback_http,
    };
    if policy.allow_loopback_http {
        tracing::warn!(
            "!!! webhooks.allow_loopback_http is ON: webhook targets may use http:// and loopback \
             addresses. Local development only; never enable this in production. !!!"
        );
    }
    let mut service = wiring::webhook_service(
        opened.storage.clone(),
        ctx.clock.clone(),
        ctx.ids.clone(),
        &ctx.pepper,
        policy,
    )?;
    service.delivery_lease = jiff::SignedDuration::from_secs(
        i64::try_from(config.webhooks.lease_secs).unwrap_or(i64::MAX),
    );
    Ok(service)
}

async fn worker(config: &Config) -> anyhow::Result<()> {
    let (ctx, opened) = context(config).await?;
    let service = webhook_service(config, &ctx, &opened)?;
    let _metrics = wiring::install_metrics()?;
    wiring::start_listening(&opened).await?;
    let w = crate::worker::Worker::start(
        service,
        opened.storage.clone(),
        opened.wake.clone(),
        crate::worker::WorkerSettings::from_config(&config.webhooks, config.notifications.enabled),
    );
    let notifier = start_notifications(config, &ctx, &opened, true)?;
    print_out("webhook worker running; Ctrl-C or SIGTERM stops it\n")?;
    wiring::shutdown_signal().await;
    tracing::info!("shutdown signal received; stopping the webhook worker");
    w.stop(WORKER_GRACE).await;
    if let Some(n) = notifier {
        n.stop(WORKER_GRACE).await;
    }
    Ok(())
}

/// Starts the notification worker when `[notifications] enabled` and `run`, and says on
/// standard output where the e-mails go.
fn start_notifications(
    config: &Config,
    ctx: &AdminContext,
    opened: &Opened,
    run: bool,
) -> anyhow::Result<Option<crate::notify_worker::NotificationWorker>> {
    if !config.notifications.enabled {
        print_out("notifications: off ([notifications] enabled = false)\n")?;
        return Ok(None);
    }
    let (mut service, destination) = wiring::notification_service(
        opened.storage.clone(),
        ctx.clock.clone(),
        ctx.ids.clone(),
        &config.notifications,
    )?;
    if config.pages.enabled {
        service.links = Some(wiring::email_links(
            opened.storage.clone(),
            ctx.clock.clone(),
            &ctx.pepper,
            &config.http.public_base_url(config.http.listen_addr()?),
        )?);
    }
    if !run {
        print_out(&format!(
            "notifications: queued; `slotbook worker` sends them ({destination})\n"
        ))?;
        return Ok(None);
    }
    tracing::info!(%destination, "notifications");
    print_out(&format!("notifications: {destination}\n"))?;
    Ok(Some(crate::notify_worker::NotificationWorker::start(
        service,
        std::time::Duration::from_millis(config.notifications.poll_interval_ms.max(10)),
    )))
}

fn first_start_message() -> String {
    "This database has no organization yet. To create demo data and print a token with ready-to-paste curl commands, run:

    slotbook demo                      (or: cargo run -p server --bin slotbook -- demo)

or start the server with `slotbook serve --demo`. To set up your own organization see `slotbook admin --help`.
"
    .to_owned()
}

/// Writes to standard output and flushes (so a reader of a piped stdout sees it at once).
fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
