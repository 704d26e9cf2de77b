//! Configuration layering with figment's `Jail`: defaults, file, environment, errors that name
//! the key.

use figment::Jail;
use secrecy::ExposeSecret as _;
use server::config::{Backend, Config, LogFormat, SharedCounters};
use std::net::SocketAddr;
use std::time::Duration;

fn load() -> anyhow::Result<Config> {
    Config::load(None, None)
}

fn err(result: anyhow::Result<Config>) -> String {
    // Environment keys are reported as spelled (upper case); compare case-insensitively.
    format!("{:#}", result.expect_err("configuration should be refused")).to_lowercase()
}

#[test]
fn defaults_without_file_or_env() {
    Jail::expect_with(|_jail| {
        let c = load().unwrap();
        assert_eq!(
            c.database.url.expose_secret(),
            "sqlite://slotbook.db?mode=rwc"
        );
        assert_eq!(c.database.backend().unwrap(), Backend::Sqlite);
        assert_eq!(
            c.http.listen_addr().unwrap(),
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            c.http.public_base_url(c.http.listen_addr().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(c.http.request_timeout_secs, 30);
        assert_eq!(c.http.body_limit_bytes, 65536);
        assert!(c.http.trusted_proxies.is_empty());
        assert_eq!(c.rate_limit.authenticated_per_minute, 120);
        assert_eq!(c.rate_limit.anonymous_per_minute, 30);
        assert_eq!(c.rate_limit.shared, SharedCounters::Auto);
        assert!(!c.use_shared_counters());
        assert!(c.security.pepper.is_none());
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.log.level, "info");
        assert_eq!(c.webhooks.lease_secs, 60);
        assert_eq!(c.rate_limit.shared_pool_size, 2);
        assert_eq!(c.rate_limit.shared_timeout_ms, 250);
        assert!(c.metrics.enabled);
        assert!(c.metrics.token.is_none(), "/metrics open by default");
        let settings = c.store_settings();
        assert_eq!(settings.counter_connections, 2);
        assert_eq!(settings.counter_acquire_timeout.as_millis(), 250);
        Ok(())
    });
}

#[test]
fn shared_counter_and_metrics_settings_are_checked() {
    Jail::expect_with(|jail| {
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_TIMEOUT_MS", "5");
        assert!(err(load()).contains("rate_limit.shared_timeout_ms"));
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_TIMEOUT_MS", "2500");
        assert!(
            err(load()).contains("rate_limit.shared_timeout_ms"),
            "above the acquire timeout"
        );
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_TIMEOUT_MS", "100");
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_POOL_SIZE", "0");
        assert!(err(load()).contains("rate_limit.shared_pool_size"));
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_POOL_SIZE", "3");
        let c = load().unwrap();
        assert_eq!(c.store_settings().counter_connections, 3);
        assert_eq!(c.store_settings().counter_acquire_timeout.as_millis(), 100);
        jail.set_env("SLOTBOOK__METRICS__TOKEN", "short");
        assert!(err(load()).contains("metrics.token"));
        jail.set_env("SLOTBOOK__METRICS__TOKEN", "a-long-enough-metrics-token");
        let c = load().unwrap();
        assert!(
            c.metrics
                .token()
                .unwrap()
                .matches("a-long-enough-metrics-token")
        );
        assert!(
            !format!("{c:?}").contains("a-long-enough-metrics-token"),
            "never in Debug"
        );
        Ok(())
    });
}

#[test]
fn local_file_overrides_defaults_and_env_overrides_file() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "slotbook.toml",
            r#"
            [http]
            listen = "0.0.0.0:9000"
            trusted_proxies = ["10.0.0.1"]
            [rate_limit]
            anonymous_per_minute = 10
            [log]
            format = "json"
            "#,
        )?;
        let c = load().unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:9000");
        // An unspecified listen IP gives a loopback base URL.
        assert_eq!(
            c.http.public_base_url(c.http.listen_addr().unwrap()),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            c.http.trusted_proxies,
            vec!["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(c.rate_limit.anonymous_per_minute, 10);
        assert_eq!(
            c.rate_limit.authenticated_per_minute, 120,
            "untouched keys keep defaults"
        );
        assert_eq!(c.log.format, LogFormat::Json);

        jail.set_env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:7000");
        jail.set_env("SLOTBOOK__RATE_LIMIT__ANONYMOUS_PER_MINUTE", "5");
        jail.set_env(
            "SLOTBOOK__HTTP__PUBLIC_BASE_URL",
            "https://api.example.com/",
        );
        let c = load().unwrap();
        assert_eq!(c.http.listen, "127.0.0.1:7000");
        assert_eq!(c.rate_limit.anonymous_per_minute, 5);
        assert_eq!(
            c.http.public_base_url(c.http.listen_addr().unwrap()),
            "https://api.example.com"
        );
        assert_eq!(c.log.format, LogFormat::Json, "file value survives");
        Ok(())
    });
}

#[test]
fn explicit_path_replaces_the_local_file_and_database_url_flag_wins() {
    Jail::expect_with(|jail| {
        jail.create_file("slotbook.toml", "[http]\nlisten = \"127.0.0.1:1111\"\n")?;
        jail.create_file("other.toml", "[http]\nlisten = \"127.0.0.1:2222\"\n")?;
        let c = Config::load(Some(std::path::Path::new("other.toml")), None).unwrap();
        assert_eq!(c.http.listen, "127.0.0.1:2222");

        jail.set_env("SLOTBOOK__DATABASE__URL", "sqlite://env.db?mode=rwc");
        let c = load().unwrap();
        assert_eq!(c.database.url.expose_secret(), "sqlite://env.db?mode=rwc");
        let c = Config::load(None, Some("sqlite://flag.db?mode=rwc")).unwrap();
        assert_eq!(c.database.url.expose_secret(), "sqlite://flag.db?mode=rwc");

        // A named file that does not exist is an error, not silently skipped.
        assert!(Config::load(Some(std::path::Path::new("missing.toml")), None).is_err());
        Ok(())
    });
}

#[test]
fn errors_name_the_offending_key() {
    Jail::expect_with(|jail| {
        jail.set_env("SLOTBOOK__HTTP__LISTEN", "not-an-address");
        assert!(err(load()).contains("http.listen"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__RATE_LIMIT__AUTHENTICATED_PER_MINUTE", "lots");
        assert!(err(load()).contains("authenticated_per_minute"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED", "redis");
        assert!(err(load()).contains("shared"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__HTTP__LISTN", "127.0.0.1:1");
        assert!(err(load()).contains("listn"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__DATABASE__URL", "mysql://db/slotbook");
        let e = err(load());
        assert!(e.contains("database.url") && e.contains("mysql"), "{e}");
        jail.clear_env();

        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED", "database");
        assert!(err(load()).contains("rate_limit.shared"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__SECURITY__PEPPER", "too-short");
        assert!(err(load()).contains("security.pepper"));
        jail.clear_env();

        jail.set_env("SLOTBOOK__WEBHOOKS__LEASE_SECS", "14");
        assert!(err(load()).contains("webhooks.lease_secs"));
        jail.set_env("SLOTBOOK__WEBHOOKS__LEASE_SECS", "15");
        load().unwrap();
        jail.clear_env();

        jail.set_env("SLOTBOOK__LOG__LEVEL", "info,[[[");
        assert!(err(load()).contains("log.level"));
        Ok(())
    });
}

/// The idempotency lease is derived from the timeouts (request + pool acquire + lock), so it
/// always exceeds the request timeout; a request timeout long enough to leave dropped keys
/// stuck for more than minutes is refused at load, naming the key and the reason.
#[test]
fn idempotency_lease_follows_the_timeouts_and_long_request_timeouts_are_refused() {
    Jail::expect_with(|jail| {
        let c = load().unwrap();
        assert_eq!(
            c.idempotency_lease(),
            Duration::from_secs(37),
            "30 s + 2 s + 5 s"
        );
        assert_eq!(
            server::cli::api_config(&c, "127.0.0.1:1".parse().unwrap()).idempotency_lease(),
            jiff::SignedDuration::from_secs(37),
            "the HTTP layer reserves with the same lease"
        );

        jail.set_env("SLOTBOOK__HTTP__REQUEST_TIMEOUT_SECS", "1");
        jail.set_env("SLOTBOOK__DATABASE__ACQUIRE_TIMEOUT_MS", "100");
        // The shared rate-limit counters may not wait longer than the pool (250 ms default).
        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED_TIMEOUT_MS", "50");
        let c = load().unwrap();
        assert_eq!(c.idempotency_lease(), Duration::from_millis(6100));
        let api = server::cli::api_config(&c, "127.0.0.1:1".parse().unwrap());
        assert_eq!(
            api.idempotency_lease(),
            jiff::SignedDuration::from_millis(6100)
        );
        assert!(
            api.idempotency_lease() > jiff::SignedDuration::try_from(api.request_timeout).unwrap()
        );
        jail.clear_env();

        jail.set_env("SLOTBOOK__HTTP__REQUEST_TIMEOUT_SECS", "600");
        let c = load().unwrap();
        assert_eq!(c.idempotency_lease(), Duration::from_secs(607));
        assert!(c.idempotency_lease() > c.http.request_timeout());
        jail.set_env("SLOTBOOK__HTTP__REQUEST_TIMEOUT_SECS", "601");
        let e = err(load());
        assert!(
            e.contains("http.request_timeout_secs")
                && e.contains("at most 600")
                && e.contains("idempotency_in_progress"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn postgres_requires_a_pepper_and_uses_shared_counters() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "SLOTBOOK__DATABASE__URL",
            "postgres://app:hunter2-secret@db:5432/slotbook",
        );
        let e = err(load());
        assert!(e.contains("slotbook__security__pepper"), "{e}");
        assert!(
            !e.contains("hunter2"),
            "the database password never appears: {e}"
        );

        jail.set_env(
            "SLOTBOOK__SECURITY__PEPPER",
            "0123456789abcdef0123456789abcdef-pepper",
        );
        let c = load().unwrap();
        assert_eq!(c.database.backend().unwrap(), Backend::Postgres);
        assert!(c.use_shared_counters());
        assert_eq!(
            c.database.redacted_url(),
            "postgres://app:***@db:5432/slotbook"
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("abcdef-pepper"),
            "{debug}"
        );

        jail.set_env("SLOTBOOK__RATE_LIMIT__SHARED", "memory");
        assert!(!load().unwrap().use_shared_counters());
        Ok(())
    });
}
