//! Configuration: embedded documented defaults → optional TOML file → `SLOTBOOK__…`
//! environment variables, deserialized once and validated at start-up.
//!
//! Errors name the offending key (`http.listen`, `database.url`, …). Secrets (the pepper, the
//! database URL, which may carry a password) are `secrecy` types and never appear in `Debug`
//! output or logs; [`DatabaseConfig::redacted_url`] is the loggable form.

use anyhow::{Context as _, bail};
use figment::Figment;
use figment::providers::{Env, Format as _, Toml};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The built-in defaults, with a comment for every key.
pub const DEFAULTS: &str = include_str!("defaults.toml");

/// The file read from the working directory when no `--config`/`SLOTBOOK_CONFIG` is given.
pub const LOCAL_FILE: &str = "slotbook.toml";

/// Environment variable naming the configuration file.
pub const CONFIG_PATH_ENV: &str = "SLOTBOOK_CONFIG";

/// Prefix of the environment overrides; `__` separates nesting levels.
pub const ENV_PREFIX: &str = "SLOTBOOK__";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
    pub security: SecurityConfig,
    pub log: LogConfig,
    pub webhooks: WebhooksConfig,
    pub oauth: OAuthConfig,
    pub pages: PagesConfig,
    pub notifications: crate::notify_config::NotificationsConfig,
    pub metrics: MetricsConfig,
}

/// `[metrics]`: who may read `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` (off: 404).
    pub enabled: bool,
    /// When set, `/metrics` requires `Authorization: Bearer <token>` (401 otherwise).
    #[serde(default)]
    pub token: Option<SecretString>,
}

impl MetricsConfig {
    /// The HTTP layer's form of [`MetricsConfig::token`].
    pub fn token(&self) -> Option<http_api::state::MetricsToken> {
        self.token
            .as_ref()
            .map(|t| http_api::state::MetricsToken::new(t.expose_secret()))
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(t) = &self.token {
            let t = t.expose_secret();
            let min = http_api::state::MetricsToken::MIN_LEN;
            if t.chars().count() < min || t.chars().any(|c| !c.is_ascii_graphic()) {
                bail!(
                    "metrics.token: must be at least {min} printable ASCII characters without spaces (e.g. the output of `openssl rand -hex 32`)"
                );
            }
        }
        Ok(())
    }
}

/// `[oauth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// RFC 7591 `POST /v1/oauth/register` (off: the path is 404 and discovery omits
    /// `registration_endpoint`).
    pub dynamic_registration: bool,
}

/// `[pages]`: the public booking pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesConfig {
    pub enabled: bool,
    pub views_per_minute: u64,
    pub submissions_per_minute: u64,
    pub frame_ancestors: String,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow `http://` and loopback targets (local development only; logged loudly).
    pub allow_loopback_http: bool,
    /// Run the delivery worker inside `slotbook serve`.
    pub worker: bool,
    /// Delivery tasks per process.
    pub concurrency: usize,
    /// How often an idle worker looks for due work without a wake-up, in milliseconds.
    pub poll_interval_ms: u64,
    /// Days delivered and failed deliveries (and fanned-out outbox messages) are kept.
    pub retention_days: u32,
    /// Rows deleted per purge batch.
    pub purge_batch: u32,
    /// Seconds a claimed delivery stays leased to its process (at least 15); an attempt cut
    /// short by a crash is made again after this long.
    pub lease_secs: u64,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; secret because it may carry a password.
    pub url: SecretString,
    /// Milliseconds a request waits for a pooled connection before it is answered `503`.
    pub acquire_timeout_ms: u64,
    /// Postgres pool size.
    pub max_connections: u32,
    /// SQLite `synchronous` for file databases: `full` (the default) or `normal`.
    pub sqlite_synchronous: SqliteSynchronous,
    /// Writers that may wait for the SQLite write turn at once; more are answered `503`.
    pub sqlite_writer_queue: usize,
}

/// `database.sqlite_synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: String,
    #[serde(default)]
    pub public_base_url: Option<String>,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub trusted_proxies: Vec<IpAddr>,
    /// Seconds a request head may take to arrive, from the accept or the previous response.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay silent with no request in flight before it is closed.
    pub keep_alive_idle_secs: u64,
    /// Header fields per request; more is `431`.
    pub max_headers: usize,
    /// Bytes of a request head (request line and headers); more is `431`.
    pub max_header_bytes: usize,
    /// Open connections (lowered to stay below the file descriptor limit).
    pub max_connections: usize,
    /// Requests handled at once; more are answered `503` with `Retry-After`.
    pub max_in_flight_requests: usize,
    /// Seconds `/readyz` answers 503 while the server keeps serving, after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Seconds in-flight requests may take to finish after the grace period.
    pub drain_timeout_secs: u64,
    /// `[http.tls]`: terminate TLS (then there is no plain-HTTP listener).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// `[http.tls]`: the PEM certificate chain (leaf first) and private key; both are read at start
/// and again at every SIGHUP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl TlsConfig {
    pub fn paths(&self) -> crate::tls::TlsPaths {
        crate::tls::TlsPaths {
            cert: self.cert_path.clone(),
            key: self.key_path.clone(),
        }
    }
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub authenticated_per_minute: u64,
    pub anonymous_per_minute: u64,
    pub shared: SharedCounters,
    /// Connections of the shared counters' own Postgres pool.
    pub shared_pool_size: u32,
    /// Milliseconds a request waits for the shared counter (its pool's acquire timeout, and a
    /// bound on the whole call); then the request is allowed by the in-process count.
    pub shared_timeout_ms: u64,
}

impl RateLimitConfig {
    /// [`RateLimitConfig::shared_timeout_ms`] as a duration.
    pub fn shared_timeout(&self) -> Duration {
        Duration::from_millis(self.shared_timeout_ms)
    }
}

/// Where rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedCounters {
    /// In the database when it is Postgres, in-process otherwise.
    Auto,
    /// In-process (per server).
    Memory,
    /// In the database (Postgres only).
    Database,
}

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    #[serde(default)]
    pub pepper: Option<SecretString>,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The storage backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL's scheme.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            bail!(
                "database.url: unknown scheme '{scheme}'; use sqlite://PATH?mode=rwc or postgres://USER:PASSWORD@HOST/DB"
            )
        }
    }
}

/// The write-lock timeout of the stores (SQLite's write turn, Postgres `lock_timeout` on the
/// slot lock): the longer of the two built-in values (both 5 s).
pub fn store_lock_timeout() -> Duration {
    store_sqlite::LOCK_TIMEOUT.max(store_postgres::DEFAULT_LOCK_TIMEOUT)
}

/// The largest accepted `http.request_timeout_secs`: an abandoned idempotency key stays
/// reserved for the request timeout plus a few seconds, so the timeout must stay short
/// (minutes, not hours).
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 600;

/// Minimum pepper length in characters.
pub const MIN_PEPPER_LEN: usize = 32;

impl DatabaseConfig {
    /// The store settings of [`crate::wiring::open_store_with`].
    pub fn store_settings(&self) -> crate::wiring::StoreSettings {
        crate::wiring::StoreSettings {
            counter_connections: crate::wiring::StoreSettings::default().counter_connections,
            counter_acquire_timeout: crate::wiring::StoreSettings::default()
                .counter_acquire_timeout,
            acquire_timeout: Duration::from_millis(self.acquire_timeout_ms),
            max_connections: self.max_connections,
            sqlite_synchronous: match self.sqlite_synchronous {
                SqliteSynchronous::Full => store_sqlite::Synchronous::Full,
                SqliteSynchronous::Normal => store_sqlite::Synchronous::Normal,
            },
            sqlite_writer_queue: self.sqlite_writer_queue,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.acquire_timeout_ms < 100 {
            bail!("database.acquire_timeout_ms: must be at least 100");
        }
        if self.max_connections == 0 {
            bail!("database.max_connections: must be at least 1");
        }
        if self.sqlite_writer_queue == 0 {
            bail!("database.sqlite_writer_queue: must be at least 1");
        }
        Ok(())
    }

    /// The backend the URL selects (validated at load time).
    pub fn backend(&self) -> anyhow::Result<Backend> {
        Backend::from_url(self.url.expose_secret())
    }

    /// The URL with any password replaced by `***`, for logs and messages.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }
}

/// Replaces the password of `scheme://user:password@host…` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{path}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

impl HttpConfig {
    /// The validated listen address.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "http.listen: '{}' is not an IP:port socket address (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)",
                self.listen
            )
        })
    }

    /// The configured public base URL without trailing slash, or `http://<bound>`
    /// (`https://` with `[http.tls]`; an unspecified IP such as `0.0.0.0` becomes
    /// `127.0.0.1`).
    pub fn public_base_url(&self, bound: SocketAddr) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let mut addr = bound;
                if addr.ip().is_unspecified() {
                    addr.set_ip(IpAddr::from([127, 0, 0, 1]));
                }
                format!("{}://{addr}", self.scheme())
            }
        }
    }

    /// `https` with `[http.tls]`, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The connection limits, with the connection cap lowered below the descriptor limit
    /// `nofile` (see [`crate::http_server::raise_nofile_limit`]).
    pub fn conn_limits(&self, nofile: Option<u64>) -> crate::http_server::ConnLimits {
        crate::http_server::ConnLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            keep_alive_idle: Duration::from_secs(self.keep_alive_idle_secs),
            max_headers: self.max_headers,
            max_header_bytes: self.max_header_bytes,
            max_connections: crate::http_server::effective_max_connections(
                self.max_connections,
                nofile,
            ),
            max_in_flight_requests: self.max_in_flight_requests,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            drain_timeout: Duration::from_secs(self.drain_timeout_secs),
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        for (key, value) in [
            (
                "http.header_read_timeout_secs",
                self.header_read_timeout_secs,
            ),
            ("http.keep_alive_idle_secs", self.keep_alive_idle_secs),
            ("http.max_headers", self.max_headers as u64),
            ("http.max_connections", self.max_connections as u64),
            (
                "http.max_in_flight_requests",
                self.max_in_flight_requests as u64,
            ),
        ] {
            if value == 0 {
                bail!("{key}: must be at least 1");
            }
        }
        if self.keep_alive_idle_secs > self.header_read_timeout_secs {
            bail!(
                "http.keep_alive_idle_secs: must not exceed http.header_read_timeout_secs ({}): the header-read timer also times the wait for a keep-alive connection's next request",
                self.header_read_timeout_secs
            );
        }
        if self.max_header_bytes < 1024 {
            bail!("http.max_header_bytes: must be at least 1024");
        }
        Ok(())
    }
}

/// The configuration sources in order: defaults, then the file (`path`, else
/// `slotbook.toml` in the working directory if present), then `SLOTBOOK__…` variables.
pub fn figment(path: Option<&Path>) -> Figment {
    let mut figment = Figment::from(Toml::string(DEFAULTS));
    match path {
        Some(p) => figment = figment.merge(Toml::file_exact(p)),
        None => {
            let local = PathBuf::from(LOCAL_FILE);
            if local.is_file() {
                figment = figment.merge(Toml::file_exact(local));
            }
        }
    }
    figment.merge(Env::prefixed(ENV_PREFIX).split("__"))
}

impl Config {
    /// Loads from [`figment`] plus an optional database URL override (`--database-url`).
    pub fn load(path: Option<&Path>, database_url: Option<&str>) -> anyhow::Result<Self> {
        let mut fig = figment(path);
        if let Some(url) = database_url {
            fig = fig.merge(("database.url", url));
        }
        Self::from_figment(&fig)
    }

    /// Deserializes and validates. Errors name the key.
    pub fn from_figment(figment: &Figment) -> anyhow::Result<Self> {
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// What a request's work may take beyond the request timeout: the pool acquire timeout
    /// (`database.acquire_timeout_ms`) plus the stores' lock timeout — the bounds of the
    /// release a dropped request spawns, and of a statement still finishing.
    pub fn idempotency_margin(&self) -> Duration {
        Duration::from_millis(self.database.acquire_timeout_ms) + store_lock_timeout()
    }

    /// The idempotency in-progress lease: `http.request_timeout_secs` plus
    /// [`Config::idempotency_margin`] (37 s with the defaults). Derived, not configured, so it
    /// always exceeds the request timeout; an unfinished reservation older than this is
    /// abandoned (its process died) and another request may take the key over.
    pub fn idempotency_lease(&self) -> Duration {
        self.http.request_timeout() + self.idempotency_margin()
    }

    /// Start-up checks beyond types.
    pub fn validate(&self) -> anyhow::Result<()> {
        let backend = self.database.backend()?;
        self.database.validate()?;
        self.notifications.validate()?;
        self.http.listen_addr()?;
        self.http.validate()?;
        if let Some(url) = &self.http.public_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("http.public_base_url: '{url}' must start with http:// or https://");
        }
        if self.http.request_timeout_secs == 0 {
            bail!("http.request_timeout_secs: must be at least 1");
        }
        if self.http.request_timeout_secs > MAX_REQUEST_TIMEOUT_SECS {
            bail!(
                "http.request_timeout_secs: must be at most {MAX_REQUEST_TIMEOUT_SECS}: an idempotency key whose request was dropped without releasing it (a crash) blocks retries with 409 idempotency_in_progress for the request timeout plus database.acquire_timeout_ms plus the {}s lock timeout",
                store_lock_timeout().as_secs()
            );
        }
        if self.http.body_limit_bytes == 0 {
            bail!("http.body_limit_bytes: must be at least 1");
        }
        if self.rate_limit.authenticated_per_minute == 0 {
            bail!("rate_limit.authenticated_per_minute: must be at least 1");
        }
        if self.rate_limit.anonymous_per_minute == 0 {
            bail!("rate_limit.anonymous_per_minute: must be at least 1");
        }
        if self.rate_limit.shared_pool_size == 0 {
            bail!("rate_limit.shared_pool_size: must be at least 1");
        }
        if !(10..=self.database.acquire_timeout_ms).contains(&self.rate_limit.shared_timeout_ms) {
            bail!(
                "rate_limit.shared_timeout_ms: must be between 10 and database.acquire_timeout_ms ({}): a rate-limit check must never wait longer than the request's own database work",
                self.database.acquire_timeout_ms
            );
        }
        self.metrics.validate()?;
        if self.rate_limit.shared == SharedCounters::Database && backend != Backend::Postgres {
            bail!(
                "rate_limit.shared: \"database\" needs a Postgres database.url; use \"auto\" or \"memory\" with SQLite"
            );
        }
        if let Some(p) = &self.security.pepper
            && p.expose_secret().chars().count() < MIN_PEPPER_LEN
        {
            bail!(
                "security.pepper: must be at least {MIN_PEPPER_LEN} characters (e.g. the output of `openssl rand -hex 32`)"
            );
        }
        if backend == Backend::Postgres && self.security.pepper.is_none() {
            bail!(
                "security.pepper is required with Postgres: set SLOTBOOK__SECURITY__PEPPER (or security.pepper in the config file) to at least {MIN_PEPPER_LEN} random characters, e.g. `openssl rand -hex 32`"
            );
        }
        let min_lease = domain::webhook_service::MIN_DELIVERY_LEASE.as_secs();
        if self.webhooks.lease_secs < min_lease.unsigned_abs() {
            bail!(
                "webhooks.lease_secs: must be at least {min_lease} (an attempt may take 10 s and must finish inside its lease)"
            );
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| anyhow::anyhow!("log.level: '{}' is not a filter: {e}", self.log.level))?;
        Ok(())
    }

    /// The store settings of [`crate::wiring::open_store_with`]: `[database]`, plus the shared
    /// counters' own pool from `[rate_limit]`.
    pub fn store_settings(&self) -> crate::wiring::StoreSettings {
        crate::wiring::StoreSettings {
            counter_connections: self.rate_limit.shared_pool_size,
            counter_acquire_timeout: self.rate_limit.shared_timeout(),
            ..self.database.store_settings()
        }
    }

    /// Whether the shared (database) rate-limit counters should be used.
    pub fn use_shared_counters(&self) -> bool {
        match self.rate_limit.shared {
            SharedCounters::Memory => false,
            SharedCounters::Database => true,
            SharedCounters::Auto => matches!(self.database.backend(), Ok(Backend::Postgres)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/slotbook"),
            "postgres://app:***@db:5432/slotbook"
        );
        assert_eq!(
            redact_url("postgres://app@db/slotbook"),
            "postgres://app@db/slotbook"
        );
        assert_eq!(
            redact_url("sqlite://slotbook.db?mode=rwc"),
            "sqlite://slotbook.db?mode=rwc"
        );
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db").unwrap_or(Backend::Postgres),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap_or(Backend::Sqlite),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://h/db").unwrap_err().to_string();
        assert!(
            err.contains("database.url") && err.contains("mysql"),
            "{err}"
        );
    }
}
