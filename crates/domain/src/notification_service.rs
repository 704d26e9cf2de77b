//! `NotificationService`: the notification worker's use cases — fan-out of booking outbox
//! messages into one [`Notification`] per (event, kind, recipient) with its rendered content,
//! sending the due ones with retries, and the operators' list.
//!
//! The machinery lives behind ports declared here: [`BookingRefDecoder`] (which booking an
//! outbox payload is about; the payload's wire format is not the domain's), [`MessageRenderer`]
//! (templates and the iCalendar invite), [`Mailer`] (SMTP or the file transport) and the
//! optional [`SelfServiceLinks`] (the invitee's manage page, once booking pages exist). The
//! `notify` adapter crate implements the renderer and the mailers.

use crate::booking::Booking;
use crate::event_type::EventType;
use crate::ids::{BookingUid, OrganizationId};
use crate::notification::*;
use crate::organization::User;
use crate::ports::{
    BookingStore, Clock, DirectoryStore, EventTypeStore, IdGen, OutboxMessage, StoreError,
};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// Reads the booking an outbox message is about from its payload.
pub trait BookingRefDecoder: Send + Sync {
    fn booking_uid(&self, message: &OutboxMessage) -> Option<BookingUid>;
}

/// Everything a template needs for one message.
#[derive(Debug, Clone, Copy)]
pub struct MessageFacts<'a> {
    pub kind: NotificationKind,
    pub recipient: &'a Recipient,
    pub booking: &'a Booking,
    /// For a reschedule: the booking it replaced (its times are "was").
    pub previous: Option<&'a Booking>,
    pub event_type: Option<&'a EventType>,
    pub host: Option<&'a User>,
    /// The cancellation or reschedule reason.
    pub reason: Option<&'a str>,
    /// The invite's `UID`: the first booking of the reschedule chain.
    pub chain_uid: BookingUid,
    /// The invite, when this message carries one.
    pub calendar: Option<(CalendarMethod, i32)>,
    /// The recipient's self-service page, when one exists.
    pub manage_url: Option<&'a str>,
    /// `DTSTAMP`.
    pub now: Timestamp,
}

/// Renders a message (subject, plain text, HTML, invite). `Err` names what could not be
/// rendered (e.g. an unknown zone); the notification is then recorded as failed.
pub trait MessageRenderer: Send + Sync {
    fn render(&self, facts: &MessageFacts<'_>) -> Result<MessageContent, String>;
}

/// Hands one message to the mail relay (or writes it where an operator finds it).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, notification: &Notification) -> SendOutcome;
}

/// The invitee's self-service page for a booking (reschedule / cancel links). The booking pages
/// implement it (`http_api::routes::pages::link::EmailLinks`: the attendee's `/_b/<token>`,
/// issued on first use, so it may write); without it messages carry no link. `Ok(None)`: this
/// recipient gets no link. An `Err` fails the fan-out, which is retried after its lease.
#[async_trait]
pub trait SelfServiceLinks: Send + Sync {
    async fn manage_url(
        &self,
        booking: &Booking,
        recipient: &Recipient,
    ) -> Result<Option<String>, StoreError>;
}

/// How long a claimed notification stays leased by default (`[notifications] lease_secs`;
/// longer than one SMTP attempt can take).
pub const SEND_LEASE: SignedDuration = SignedDuration::from_secs(120);
/// How long a claimed outbox message stays leased while it is fanned out.
pub const NOTIFY_FAN_OUT_LEASE: SignedDuration = SignedDuration::from_secs(30);
/// Longest reschedule chain followed to find the first booking.
const MAX_CHAIN: usize = 1000;

/// What one pass of [`NotificationService::send_due`] did (for metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
    pub skipped: u32,
}

impl SendReport {
    pub fn handled(&self) -> u32 {
        self.sent + self.retried + self.failed + self.skipped
    }

    fn add(&mut self, other: &SendReport) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// The operators' view of notifications (needs only the store): `slotbook admin notification
/// list`.
#[derive(Clone)]
pub struct NotificationLog {
    pub store: Arc<dyn NotificationStore>,
}

impl NotificationLog {
    /// An organization's notifications, newest first, optionally in one state.
    pub async fn list(
        &self,
        org: OrganizationId,
        state: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        self.store.list_notifications(org, state, limit).await
    }
}

/// The notification use cases over their ports.
#[derive(Clone)]
pub struct NotificationService {
    pub store: Arc<dyn NotificationStore>,
    pub bookings: Arc<dyn BookingStore>,
    pub event_types: Arc<dyn EventTypeStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub decoder: Arc<dyn BookingRefDecoder>,
    pub renderer: Arc<dyn MessageRenderer>,
    pub mailer: Arc<dyn Mailer>,
    pub links: Option<Arc<dyn SelfServiceLinks>>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    /// How long before the start the reminder goes out (`[notifications] reminder_hours`).
    pub reminder_lead: SignedDuration,
    /// How long a claimed notification stays leased ([`SEND_LEASE`] unless configured). A
    /// process killed mid-send leaves it to expire; then any process sends the message again.
    pub send_lease: SignedDuration,
}

impl NotificationService {
    /// The first booking of `b`'s reschedule chain (the invite's stable `UID`).
    async fn chain_root(&self, b: &Booking) -> Result<BookingUid, StoreError> {
        let mut uid = b.uid;
        let mut from = b.rescheduled_from_uid;
        for _ in 0..MAX_CHAIN {
            let Some(prev) = from else { break };
            match self.bookings.get_booking(b.organization_id, prev).await? {
                Some(p) => {
                    uid = p.uid;
                    from = p.rescheduled_from_uid;
                }
                None => {
                    uid = prev;
                    break;
                }
            }
        }
        Ok(uid)
    }

    /// Fans out up to `max` booking outbox messages into notifications, committed together with
    /// the message's handled mark. Returns how many messages were handled.
    pub async fn fan_out(&self, max: u32) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let messages = self
            .store
            .claim_notification_events(&NOTIFIED_EVENTS, now, NOTIFY_FAN_OUT_LEASE, max)
            .await?;
        for m in &messages {
            let rows = self.notifications_for(m, now).await?;
            let (rows, cancel) = rows.unwrap_or_default();
            self.store
                .fan_out_notifications(m, &rows, &cancel, now)
                .await?;
        }
        Ok(messages.len())
    }

    /// The rows one message causes (`None`: its booking is gone or unreadable; nothing to send).
    async fn notifications_for(
        &self,
        m: &OutboxMessage,
        now: Timestamp,
    ) -> Result<Option<(Vec<Notification>, Vec<BookingUid>)>, StoreError> {
        let Some(uid) = self.decoder.booking_uid(m) else {
            return Ok(None);
        };
        let org = m.organization_id;
        let Some(booking) = self.bookings.get_booking(org, uid).await? else {
            return Ok(None);
        };
        let previous = match booking.rescheduled_from_uid {
            Some(p) if m.event == "booking.rescheduled" => {
                self.bookings.get_booking(org, p).await?
            }
            _ => None,
        };
        let host = self.directory.get_user(org, booking.host_user_id).await?;
        let event_type = self
            .event_types
            .get_event_type(org, booking.event_type_id)
            .await?;
        let chain_uid = self.chain_root(&booking).await?;
        let plan = plan(
            &m.event,
            &booking,
            previous.as_ref().map(|p| p.uid),
            host.as_ref(),
            self.reminder_lead,
            m.created_at,
        );
        let reason = match m.event.as_str() {
            "booking.canceled" => booking.cancellation_reason.as_deref(),
            "booking.rescheduled" => previous
                .as_ref()
                .and_then(|p| p.cancellation_reason.as_deref()),
            _ => None,
        };
        let mut rows = Vec::with_capacity(plan.messages.len());
        for pm in plan.messages {
            let method = match pm.kind {
                NotificationKind::Created | NotificationKind::Rescheduled => {
                    Some(CalendarMethod::Request)
                }
                NotificationKind::Canceled => Some(CalendarMethod::Cancel),
                NotificationKind::Reminder => None,
            };
            let manage_url = match (&self.links, pm.kind) {
                (Some(l), k) if k != NotificationKind::Canceled => {
                    l.manage_url(&booking, &pm.recipient).await?
                }
                _ => None,
            };
            let facts = MessageFacts {
                kind: pm.kind,
                recipient: &pm.recipient,
                booking: &booking,
                previous: previous.as_ref(),
                event_type: event_type.as_ref(),
                host: host.as_ref(),
                reason,
                chain_uid,
                calendar: method.map(|mt| (mt, sequence_of(&booking, mt))),
                manage_url: manage_url.as_deref(),
                now,
            };
            let (content, state, error) = match self.renderer.render(&facts) {
                Ok(c) => (c, NotificationState::Pending, None),
                Err(e) => (
                    MessageContent {
                        subject: String::new(),
                        text: String::new(),
                        html: String::new(),
                        calendar: None,
                    },
                    NotificationState::Failed,
                    Some(format!("could not render the message: {e}")),
                ),
            };
            rows.push(Notification {
                id: NotificationId(self.ids.new_id()),
                organization_id: org,
                outbox_id: m.id,
                booking_uid: booking.uid,
                kind: pm.kind,
                recipient: pm.recipient,
                content,
                next_attempt_at: (state == NotificationState::Pending).then_some(pm.due),
                state,
                attempts: 0,
                last_error: error,
                sent_at: None,
                created_at: now,
                updated_at: now,
            });
        }
        Ok(Some((rows, plan.cancel_reminders_of)))
    }

    /// Whether a claimed reminder should still go out: its booking holds time and has not
    /// started.
    async fn reminder_wanted(&self, n: &Notification, now: Timestamp) -> Result<bool, StoreError> {
        Ok(
            match self
                .bookings
                .get_booking(n.organization_id, n.booking_uid)
                .await?
            {
                Some(b) => b.status.holds_time() && b.start > now,
                None => false,
            },
        )
    }

    /// Sends the notifications due now (up to `max`), one after another, and records each.
    ///
    /// A batch shares one lease, so no send starts after half of it has passed: the rest of
    /// the batch is left to its lease (and reclaimed after it) rather than sent while another
    /// process may already have claimed it again.
    pub async fn send_due(&self, max: u32) -> Result<SendReport, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_notifications(now, self.send_lease, max)
            .await?;
        let start_by = now.checked_add(self.send_lease / 2).unwrap_or(now);
        let mut report = SendReport::default();
        for mut n in claimed {
            if self.clock.now() > start_by {
                break;
            }
            if n.kind == NotificationKind::Reminder && !self.reminder_wanted(&n, now).await? {
                n.state = NotificationState::Skipped;
                n.next_attempt_at = None;
                n.updated_at = now;
                self.store.record_notification(&n).await?;
                report.skipped += 1;
                continue;
            }
            let outcome = self.mailer.send(&n).await;
            match after_send(&mut n, &outcome, self.clock.now()) {
                SendEffect::Sent => report.sent += 1,
                SendEffect::Retry => report.retried += 1,
                SendEffect::Failed => report.failed += 1,
            }
            self.store.record_notification(&n).await?;
        }
        Ok(report)
    }

    /// Fans out and sends until nothing is due at the clock's current instant (bounded): the
    /// synchronous drain tests use.
    pub async fn drain(&self) -> Result<SendReport, StoreError> {
        let mut total = SendReport::default();
        for _ in 0..10_000 {
            let fanned = self.fan_out(100).await?;
            let r = self.send_due(100).await?;
            total.add(&r);
            if fanned == 0 && r.handled() == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// An organization's notifications, newest first (operators).
    pub async fn list(
        &self,
        org: OrganizationId,
        state: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        NotificationLog {
            store: self.store.clone(),
        }
        .list(org, state, limit)
        .await
    }
}
