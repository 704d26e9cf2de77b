//! `[notifications]`: the booking e-mails — sender, reminder lead, the SMTP relay under
//! `[notifications.smtp]` (unset `host`: the file transport writes `.eml` files instead).

use anyhow::bail;
use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

/// `[notifications]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Send booking e-mails at all.
    pub enabled: bool,
    /// Run the notification worker inside `slotbook serve` (`slotbook worker` runs it alone).
    pub worker: bool,
    /// `Name <address>` or an address.
    pub from: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Hours before the start a reminder goes out (0: no reminders).
    pub reminder_hours: u32,
    /// Where the file transport writes when no relay is configured.
    pub file_dir: PathBuf,
    /// How often an idle worker looks for due messages, in milliseconds.
    pub poll_interval_ms: u64,
    /// Seconds a claimed message stays leased to the sending process (at least 15, and at
    /// least 3 × `smtp.timeout_secs`); a send cut short by a crash is made again after this.
    pub lease_secs: u64,
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
}

/// How the relay connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    Plain,
}

/// The shortest `[notifications] lease_secs` accepted.
pub const MIN_LEASE_SECS: u64 = 15;

fn default_port() -> u16 {
    587
}
fn default_security() -> SmtpSecurity {
    SmtpSecurity::Starttls
}
fn default_timeout() -> u64 {
    10
}
fn default_pool() -> u32 {
    4
}

/// `[notifications.smtp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_security")]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_pool")]
    pub pool_max: u32,
}

impl NotificationsConfig {
    /// Start-up checks beyond types.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Err(e) = notify::Sender::parse(&self.from, self.reply_to.as_deref()) {
            bail!("{e}");
        }
        if self.lease_secs < MIN_LEASE_SECS {
            bail!(
                "notifications.lease_secs: must be at least {MIN_LEASE_SECS} (a send must finish well inside its lease)"
            );
        }
        if let Some(s) = &self.smtp {
            if self.lease_secs < s.timeout_secs.saturating_mul(3) {
                bail!(
                    "notifications.lease_secs: must be at least 3 × notifications.smtp.timeout_secs ({}), so that a send started in the first half of the lease ends inside it",
                    s.timeout_secs.saturating_mul(3)
                );
            }
            if s.host.trim().is_empty() {
                bail!(
                    "notifications.smtp.host: must name the relay (or remove [notifications.smtp])"
                );
            }
            if s.timeout_secs == 0 {
                bail!("notifications.smtp.timeout_secs: must be at least 1");
            }
            if s.username.is_some() && s.security == SmtpSecurity::Plain {
                tracing::warn!(
                    "notifications.smtp: credentials over a plain (unencrypted) connection; use starttls or tls unless the relay is local"
                );
            }
        }
        Ok(())
    }
}
