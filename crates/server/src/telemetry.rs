//! Logging: `tracing` to standard error (standard output is reserved for command results such
//! as a newly minted token), as text or JSON lines, filtered by `log.level` or `RUST_LOG`.
//! Never logs secrets: configuration secrets are `secrecy` types with redacted `Debug`.

use crate::config::{LogConfig, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set and valid, overrides `log.level`.
pub fn init(log: &LogConfig) -> anyhow::Result<()> {
    let filter = match EnvFilter::try_from_default_env() {
        Ok(f) => f,
        Err(_) => EnvFilter::try_new(&log.level)
            .map_err(|e| anyhow::anyhow!("log.level: '{}' is not a filter: {e}", log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or log collectors.
        .with_ansi(std::io::stderr().is_terminal());
    let result = match log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))
}
