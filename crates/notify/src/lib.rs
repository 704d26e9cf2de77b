//! Booking e-mails behind the domain's notification ports: [`TemplateRenderer`] (plain-text and
//! HTML parts from compile-time checked askama templates, times in the recipient's zone, and
//! the iCalendar invite of [`ics`]), [`SmtpMailer`] (lettre: STARTTLS, implicit TLS or plain
//! for local relays, authentication, timeouts, a connection pool) and [`FileMailer`] (one
//! `.eml` file per message, for development and for deployments without a relay), plus
//! [`PayloadDecoder`], which reads the booking uid out of an outbox payload.
//!
//! This crate never decides who receives what or when (that is `domain::notification`), and
//! never drops a message silently: every outcome is returned to the domain, which records it.

mod decode;
pub mod ics;
mod mailer;
mod render;

pub use decode::PayloadDecoder;
pub use mailer::{FileMailer, Security, Sender, SmtpMailer, SmtpSettings, build_message};
pub use render::TemplateRenderer;
