//! Notifications: the e-mails a booking change sends (confirmation, reschedule, cancellation,
//! reminder), each to one recipient, with a calendar invite where the change moves the meeting.
//!
//! The rules live here as pure functions: who receives which message for which outbox event
//! ([`plan`]), when a reminder is due ([`reminder_due`]), what `SEQUENCE` an invite carries
//! ([`sequence_of`]) and how a failed send is retried ([`after_send`]). The [`NotificationStore`]
//! port persists one row per (outbox event, kind, recipient), so a message is sent at most once
//! per recipient per event; the outbox id is the idempotency key.

use crate::booking::Booking;
use crate::ids::{BookingUid, OrganizationId, OutboxId};
use crate::organization::User;
use crate::ports::{OutboxMessage, StoreError};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use uuid::Uuid;

/// A notification row's id (UUIDv7); also the e-mail's `Message-ID` local part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotificationId(pub Uuid);

impl fmt::Display for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Created,
    Rescheduled,
    Canceled,
    Reminder,
}

impl NotificationKind {
    pub const ALL: [Self; 4] = [
        Self::Created,
        Self::Rescheduled,
        Self::Canceled,
        Self::Reminder,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Rescheduled => "rescheduled",
            Self::Canceled => "canceled",
            Self::Reminder => "reminder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a recipient receives the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientRole {
    Attendee,
    Guest,
    Host,
}

impl RecipientRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Attendee => "attendee",
            Self::Guest => "guest",
            Self::Host => "host",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Attendee, Self::Guest, Self::Host]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationState {
    /// Waiting for its due time or its next attempt.
    Pending,
    Sent,
    /// A permanent refusal (SMTP 5xx) or retries exhausted; visible to operators.
    Failed,
    /// Not sent on purpose: a reminder of a booking that was canceled or moved.
    Skipped,
}

impl NotificationState {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Sent, Self::Failed, Self::Skipped];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One person a message goes to, with the zone its times are shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: Option<String>,
    /// IANA zone name.
    pub timezone: String,
    pub role: RecipientRole,
}

/// The iTIP method of an invite (RFC 5546).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMethod {
    Request,
    Cancel,
}

impl CalendarMethod {
    /// As written in `METHOD:` and the `method=` content-type parameter.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "REQUEST" => Some(Self::Request),
            "CANCEL" => Some(Self::Cancel),
            _ => None,
        }
    }
}

/// The calendar part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    pub method: CalendarMethod,
    /// The iCalendar text (CRLF line ends, folded).
    pub ics: String,
}

/// A rendered message: what every attempt sends, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub calendar: Option<CalendarPart>,
}

/// One message to one recipient for one outbox event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub organization_id: OrganizationId,
    /// The outbox message that caused it (the idempotency key, with kind and recipient).
    pub outbox_id: OutboxId,
    pub booking_uid: BookingUid,
    pub kind: NotificationKind,
    pub recipient: Recipient,
    pub content: MessageContent,
    pub state: NotificationState,
    pub attempts: u32,
    /// When the next attempt is due (`None` once finished).
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The outbox events that send e-mail.
pub const NOTIFIED_EVENTS: [&str; 3] =
    ["booking.created", "booking.rescheduled", "booking.canceled"];

/// Waits before the 2nd, 3rd, … attempt after a transient failure; after the last the
/// notification is `Failed`.
pub const RETRY_AFTER: [SignedDuration; 6] = [
    SignedDuration::from_secs(30),
    SignedDuration::from_mins(2),
    SignedDuration::from_mins(10),
    SignedDuration::from_mins(30),
    SignedDuration::from_hours(2),
    SignedDuration::from_hours(6),
];

/// Most characters of an SMTP error kept on the row.
pub const MAX_ERROR_CHARS: usize = 500;

/// The result of handing one message to the mail relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Connection refused, timeout, 4xx: try again later.
    Transient(String),
    /// 5xx: the relay will never take it.
    Permanent(String),
}

/// What one attempt did to the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendEffect {
    Sent,
    Retry,
    Failed,
}

/// Applies an attempt's outcome: the attempt count, the state, the next attempt (backoff per
/// [`RETRY_AFTER`]) and the error text.
pub fn after_send(n: &mut Notification, outcome: &SendOutcome, now: Timestamp) -> SendEffect {
    n.attempts += 1;
    n.updated_at = now;
    let clip = |e: &str| e.chars().take(MAX_ERROR_CHARS).collect::<String>();
    match outcome {
        SendOutcome::Sent => {
            n.state = NotificationState::Sent;
            n.sent_at = Some(now);
            n.next_attempt_at = None;
            n.last_error = None;
            SendEffect::Sent
        }
        SendOutcome::Permanent(e) => {
            n.state = NotificationState::Failed;
            n.next_attempt_at = None;
            n.last_error = Some(clip(e));
            SendEffect::Failed
        }
        SendOutcome::Transient(e) => {
            n.last_error = Some(clip(e));
            match usize::try_from(n.attempts - 1)
                .ok()
                .and_then(|i| RETRY_AFTER.get(i))
            {
                Some(wait) => {
                    n.next_attempt_at = now.checked_add(*wait).ok();
                    SendEffect::Retry
                }
                None => {
                    n.state = NotificationState::Failed;
                    n.next_attempt_at = None;
                    SendEffect::Failed
                }
            }
        }
    }
}

/// When a reminder `lead` before `start` is due, or `None` when the booking was made inside
/// that window (at `made_at`): nobody needs reminding of what they just booked.
pub fn reminder_due(
    start: Timestamp,
    lead: SignedDuration,
    made_at: Timestamp,
) -> Option<Timestamp> {
    if lead.is_zero() || lead.is_negative() {
        return None;
    }
    let at = start.checked_sub(lead).ok()?;
    (at > made_at).then_some(at)
}

/// The invite's `SEQUENCE`: the reschedule generation for a request (0, then +1 per move); one
/// more for the cancellation, so it supersedes the last request.
pub fn sequence_of(booking: &Booking, method: CalendarMethod) -> i32 {
    match method {
        CalendarMethod::Request => booking.reschedule_generation,
        CalendarMethod::Cancel => booking.reschedule_generation + 1,
    }
}

/// Everyone a booking's messages go to: each attendee (in their own zone, else the booking's),
/// each guest (the booking's zone) and the host (their zone, else the booking's). An address
/// appears once (compared case-insensitively), first role wins.
pub fn recipients(booking: &Booking, host: Option<&User>) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    let mut push = |r: Recipient| {
        if !r.email.trim().is_empty()
            && !out
                .iter()
                .any(|o| o.email.eq_ignore_ascii_case(r.email.trim()))
        {
            out.push(Recipient {
                email: r.email.trim().to_owned(),
                ..r
            });
        }
    };
    for a in &booking.attendees {
        push(Recipient {
            email: a.email.clone(),
            name: (!a.name.trim().is_empty()).then(|| a.name.clone()),
            timezone: a
                .timezone
                .clone()
                .unwrap_or_else(|| booking.timezone.clone()),
            role: RecipientRole::Attendee,
        });
    }
    for g in &booking.guests {
        push(Recipient {
            email: g.clone(),
            name: None,
            timezone: booking.timezone.clone(),
            role: RecipientRole::Guest,
        });
    }
    if let Some(h) = host {
        push(Recipient {
            email: h.email.as_str().to_owned(),
            name: h.display_name(),
            timezone: h
                .timezone
                .clone()
                .unwrap_or_else(|| booking.timezone.clone()),
            role: RecipientRole::Host,
        });
    }
    out
}

/// One message the plan asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub kind: NotificationKind,
    pub recipient: Recipient,
    /// When it should go out (now, or the reminder's time).
    pub due: Timestamp,
}

/// What an outbox event causes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub messages: Vec<PlannedMessage>,
    /// Bookings whose pending reminders are no longer wanted (canceled or moved).
    pub cancel_reminders_of: Vec<BookingUid>,
}

/// Who gets which message for `event` about `booking` (for `booking.rescheduled`, the new
/// booking; `previous_uid` the one it replaced), with reminders `lead` before the start.
pub fn plan(
    event: &str,
    booking: &Booking,
    previous_uid: Option<BookingUid>,
    host: Option<&User>,
    lead: SignedDuration,
    now: Timestamp,
) -> Plan {
    let people = recipients(booking, host);
    let messages = |kind: NotificationKind, due: Timestamp| {
        people
            .iter()
            .map(|r| PlannedMessage {
                kind,
                recipient: r.clone(),
                due,
            })
            .collect::<Vec<_>>()
    };
    let reminders = |made_at: Timestamp| {
        if !booking.status.holds_time() {
            return Vec::new();
        }
        reminder_due(booking.start, lead, made_at)
            .map(|at| messages(NotificationKind::Reminder, at))
            .unwrap_or_default()
    };
    match event {
        "booking.created" => {
            let mut m = messages(NotificationKind::Created, now);
            m.extend(reminders(booking.created_at));
            Plan {
                messages: m,
                cancel_reminders_of: Vec::new(),
            }
        }
        "booking.rescheduled" => {
            let mut m = messages(NotificationKind::Rescheduled, now);
            m.extend(reminders(booking.created_at));
            Plan {
                messages: m,
                cancel_reminders_of: previous_uid.into_iter().collect(),
            }
        }
        "booking.canceled" => Plan {
            messages: messages(NotificationKind::Canceled, now),
            cancel_reminders_of: vec![booking.uid],
        },
        _ => Plan::default(),
    }
}

/// Notification rows and the outbox cursor of the notification consumer.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Claims up to `max` outbox messages named in `events` that the notification consumer has
    /// not handled yet and whose notification lease is free or expired, oldest first, leasing
    /// them until `now + lease`. Independent of the webhook fan-out's claim and `done` mark.
    async fn claim_notification_events(
        &self,
        events: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// In one transaction: inserts `notifications` (skipping any whose (outbox id, kind,
    /// recipient e-mail) already exists, so a repeated fan-out adds nothing), marks pending
    /// reminders of `cancel_reminders_of` as `Skipped`, and marks the message handled by the
    /// notification consumer.
    async fn fan_out_notifications(
        &self,
        message: &OutboxMessage,
        notifications: &[Notification],
        cancel_reminders_of: &[BookingUid],
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Claims up to `max` pending notifications due at `now` whose lease is free or expired,
    /// earliest due first, leasing them until `now + lease` (Postgres: `FOR UPDATE SKIP LOCKED`).
    async fn claim_notifications(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        max: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Stores an attempted (or skipped) notification's state and releases its lease.
    async fn record_notification(&self, notification: &Notification) -> Result<(), StoreError>;
    /// An organization's notifications, newest first, optionally in one state; at most `limit`.
    async fn list_notifications(
        &self,
        org: OrganizationId,
        state: Option<NotificationState>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
}

#[cfg(test)]
mod tests;
