//! The two [`Mailer`]s: [`SmtpMailer`] (lettre's async SMTP transport with its connection
//! pool) and [`FileMailer`] (one `.eml` per message, named by the notification id, so a retry
//! overwrites rather than duplicates). Both build the same MIME message ([`build_message`]):
//! `multipart/mixed` of `multipart/alternative` (plain text, HTML and, with an invite,
//! `text/calendar; method=…`) and the invite again as the attachment `invite.ics`, the layout
//! Google Calendar, Outlook and Apple Calendar recognise. The `Message-ID` is derived from the
//! notification id, so a message re-sent after a crash can be recognised as the same one.

use async_trait::async_trait;
use domain::notification::{Notification, SendOutcome};
use domain::notification_service::Mailer;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret as _, SecretString};
use std::path::PathBuf;
use std::time::Duration;

/// From and Reply-To of every message.
#[derive(Debug, Clone)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
}

impl Sender {
    /// Parses `Name <address>` or a bare address for both.
    pub fn parse(from: &str, reply_to: Option<&str>) -> Result<Self, String> {
        let from = from
            .parse()
            .map_err(|e| format!("notifications.from '{from}' is not an address: {e}"))?;
        let reply_to = match reply_to.map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => Some(
                r.parse()
                    .map_err(|e| format!("notifications.reply_to '{r}' is not an address: {e}"))?,
            ),
            None => None,
        };
        Ok(Self { from, reply_to })
    }
}

/// Builds the MIME message of a notification.
pub fn build_message(sender: &Sender, n: &Notification) -> Result<Message, String> {
    let address = n
        .recipient
        .email
        .parse()
        .map_err(|e| format!("recipient '{}' is not an address: {e}", n.recipient.email))?;
    let to = Mailbox::new(n.recipient.name.clone(), address);
    let mut b = Message::builder()
        .from(sender.from.clone())
        .to(to)
        .subject(n.content.subject.clone())
        .message_id(Some(format!("<{}@slotbook>", n.id)));
    if let Some(r) = &sender.reply_to {
        b = b.reply_to(r.clone());
    }
    let mut alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(n.content.text.clone()))
        .singlepart(SinglePart::html(n.content.html.clone()));
    let body = match &n.content.calendar {
        None => alternative,
        Some(c) => {
            let ct = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={}",
                c.method.as_str()
            ))
            .map_err(|e| format!("calendar content type: {e}"))?;
            alternative = alternative
                .singlepart(SinglePart::builder().header(ct.clone()).body(c.ics.clone()));
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new("invite.ics".to_owned()).body(c.ics.clone(), ct))
        }
    };
    b.multipart(body)
        .map_err(|e| format!("building the message: {e}"))
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS"), usually port 465.
    Tls,
    /// No TLS: only for a relay on the same host or a trusted network.
    Plain,
}

/// The relay.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub timeout: Duration,
    pub pool_max: u32,
}

/// Sends through an SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Sender,
    describe: String,
}

impl SmtpMailer {
    pub fn new(settings: &SmtpSettings, sender: Sender) -> Result<Self, String> {
        let host = settings.host.as_str();
        let builder = match settings.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("notifications.smtp.host '{host}': {e}"))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("notifications.smtp.host '{host}': {e}"))?,
            Security::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(settings.pool_max.max(1)));
        if let Some(user) = &settings.username {
            let password = settings
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let scheme = match settings.security {
            Security::StartTls => "smtp+starttls",
            Security::Tls => "smtps",
            Security::Plain => "smtp (plain)",
        };
        Ok(Self {
            transport: builder.build(),
            sender,
            describe: format!("{scheme}://{host}:{}", settings.port),
        })
    }

    /// Where messages go, for start-up output (no credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, n: &Notification) -> SendOutcome {
        let message = match build_message(&self.sender, n) {
            Ok(m) => m,
            Err(e) => return SendOutcome::Permanent(e),
        };
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!(notification = %n.id, kind = n.kind.as_str(), relay = %self.describe, "notification sent");
                SendOutcome::Sent
            }
            Err(e) if e.is_permanent() => {
                tracing::warn!(notification = %n.id, error = %e, "SMTP relay refused the notification permanently");
                SendOutcome::Permanent(e.to_string())
            }
            Err(e) => {
                tracing::warn!(notification = %n.id, error = %e, "SMTP send failed; will retry");
                SendOutcome::Transient(e.to_string())
            }
        }
    }
}

/// Writes each message as `<dir>/<notification id>.eml` and logs where.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
    sender: Sender,
}

impl FileMailer {
    pub fn new(dir: PathBuf, sender: Sender) -> Self {
        Self { dir, sender }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, n: &Notification) -> SendOutcome {
        let message = match build_message(&self.sender, n) {
            Ok(m) => m,
            Err(e) => return SendOutcome::Permanent(e),
        };
        if let Err(e) = tokio::fs::create_dir_all(&self.dir).await {
            return SendOutcome::Transient(format!("creating {}: {e}", self.dir.display()));
        }
        let path = self.dir.join(format!("{}.eml", n.id));
        match tokio::fs::write(&path, message.formatted()).await {
            Ok(()) => {
                tracing::info!(
                    path = %path.display(),
                    to = %n.recipient.email,
                    subject = %n.content.subject,
                    "notification written to a file (no SMTP relay configured)"
                );
                SendOutcome::Sent
            }
            Err(e) => SendOutcome::Transient(format!("writing {}: {e}", path.display())),
        }
    }
}
