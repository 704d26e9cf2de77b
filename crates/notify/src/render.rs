//! [`TemplateRenderer`]: subject, plain-text and HTML parts (askama; the HTML template
//! auto-escapes) and the invite, for one recipient. Times are shown in the recipient's zone
//! with the zone named (`Wednesday, 20 January 2027, 11:00–11:30 (Europe/Berlin, CET)`).

use crate::ics::{self, Invite, Person};
use askama::Template;
use domain::notification::{
    CalendarMethod, CalendarPart, MessageContent, NotificationKind, RecipientRole,
};
use domain::notification_service::{MessageFacts, MessageRenderer};
use jiff::Timestamp;

#[derive(Template)]
#[template(path = "message.txt", escape = "none")]
struct TextPart<'a> {
    greeting: &'a str,
    headline: &'a str,
    title: &'a str,
    when: &'a str,
    was: Option<&'a str>,
    location: Option<&'a str>,
    host: Option<&'a str>,
    invitee: Option<&'a str>,
    reason: Option<&'a str>,
    manage_url: Option<&'a str>,
    has_invite: bool,
    invite_action: &'a str,
    booking_uid: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    greeting: &'a str,
    headline: &'a str,
    title: &'a str,
    when: &'a str,
    was: Option<&'a str>,
    location: Option<&'a str>,
    host: Option<&'a str>,
    invitee: Option<&'a str>,
    reason: Option<&'a str>,
    manage_url: Option<&'a str>,
    has_invite: bool,
    invite_action: &'a str,
    booking_uid: &'a str,
}

/// Renders messages from the built-in templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateRenderer;

/// `Wednesday, 20 January 2027, 11:00–11:30 (Europe/Berlin, CET)`; the end carries its date
/// when it falls on another local day.
pub fn local_span(start: Timestamp, end: Timestamp, zone: &str) -> Result<String, String> {
    let tz = domain::tzdb::lookup(zone).map_err(|e| format!("unknown time zone {zone}: {e}"))?;
    let s = start.to_zoned(tz.clone());
    let e = end.to_zoned(tz);
    let end_text = if s.date() == e.date() {
        e.strftime("%H:%M").to_string()
    } else {
        e.strftime("%A, %-d %B %Y, %H:%M").to_string()
    };
    let abbrev = s.strftime("%Z").to_string();
    Ok(format!(
        "{}–{} ({zone}, {abbrev})",
        s.strftime("%A, %-d %B %Y, %H:%M"),
        end_text
    ))
}

/// `Wed 20 Jan 2027 11:00 CET`, for subjects.
pub fn local_short(t: Timestamp, zone: &str) -> Result<String, String> {
    let tz = domain::tzdb::lookup(zone).map_err(|e| format!("unknown time zone {zone}: {e}"))?;
    Ok(t.to_zoned(tz).strftime("%a %-d %b %Y %H:%M %Z").to_string())
}

fn location_text(b: &domain::booking::Booking) -> Option<String> {
    let l = b.location.as_ref()?;
    l.url
        .clone()
        .or_else(|| l.value.clone())
        .or_else(|| l.kind.clone())
        .filter(|s| !s.trim().is_empty())
}

fn person(name: Option<String>, email: &str) -> String {
    match name {
        Some(n) if !n.trim().is_empty() => format!("{n} <{email}>"),
        _ => email.to_owned(),
    }
}

impl MessageRenderer for TemplateRenderer {
    fn render(&self, f: &MessageFacts<'_>) -> Result<MessageContent, String> {
        let b = f.booking;
        let zone = f.recipient.timezone.as_str();
        let title = b
            .title
            .clone()
            .or_else(|| f.event_type.map(|e| e.title.clone()))
            .unwrap_or_else(|| "Meeting".to_owned());
        let when = local_span(b.start, b.end, zone)?;
        let short = local_short(b.start, zone)?;
        let was = match (f.kind, f.previous) {
            (NotificationKind::Rescheduled, Some(p)) => Some(local_span(p.start, p.end, zone)?),
            _ => None,
        };
        let is_host = f.recipient.role == RecipientRole::Host;
        let invitee_name = b.attendees.first().map(|a| {
            person(
                (!a.name.trim().is_empty()).then(|| a.name.clone()),
                &a.email,
            )
        });
        let host_name = f.host.map(|h| person(h.display_name(), h.email.as_str()));
        let who = invitee_name
            .clone()
            .unwrap_or_else(|| "your invitee".into());
        let (subject_word, headline) = match (f.kind, is_host) {
            (NotificationKind::Created, false) => {
                ("Confirmed", "Your booking is confirmed.".to_owned())
            }
            (NotificationKind::Created, true) => ("New booking", format!("{who} booked {title}.")),
            (NotificationKind::Rescheduled, false) => (
                "Rescheduled",
                "Your booking has moved to a new time.".to_owned(),
            ),
            (NotificationKind::Rescheduled, true) => {
                ("Rescheduled", format!("{who} moved their booking."))
            }
            (NotificationKind::Canceled, false) => {
                ("Canceled", "Your booking was canceled.".to_owned())
            }
            (NotificationKind::Canceled, true) => {
                ("Canceled", format!("The booking with {who} was canceled."))
            }
            (NotificationKind::Reminder, _) => ("Reminder", format!("{title} is coming up.")),
        };
        let subject = format!("{subject_word}: {title} — {short}");
        let greeting = match &f.recipient.name {
            Some(n) => format!("Hello {n},"),
            None => "Hello,".to_owned(),
        };
        let location = location_text(b);
        let uid = b.uid.to_string();
        let calendar = f.calendar.map(|(method, sequence)| {
            let chain = format!("{}@slotbook", f.chain_uid);
            let mut attendees: Vec<Person<'_>> = b
                .attendees
                .iter()
                .map(|a| Person {
                    email: &a.email,
                    name: (!a.name.trim().is_empty()).then_some(a.name.as_str()),
                })
                .collect();
            attendees.extend(b.guests.iter().map(|g| Person {
                email: g,
                name: None,
            }));
            let host_display = f.host.and_then(|h| h.display_name());
            let description = format!("{title}\nBooking {uid}");
            let ics = ics::render(&Invite {
                method,
                uid: &chain,
                sequence,
                stamp: f.now,
                start: b.start,
                end: b.end,
                summary: &title,
                description: Some(&description),
                location: location.as_deref(),
                url: f.manage_url,
                organizer: f.host.map(|h| Person {
                    email: h.email.as_str(),
                    name: host_display.as_deref(),
                }),
                attendees,
            });
            CalendarPart { method, ics }
        });
        let invite_action = match calendar.as_ref().map(|c| c.method) {
            Some(CalendarMethod::Cancel) => "remove",
            _ if f.kind == NotificationKind::Rescheduled => "update",
            _ => "add",
        };
        let host = if is_host { None } else { host_name.as_deref() };
        let invitee = if is_host {
            invitee_name.as_deref()
        } else {
            None
        };
        let text = TextPart {
            greeting: &greeting,
            headline: &headline,
            title: &title,
            when: &when,
            was: was.as_deref(),
            location: location.as_deref(),
            host,
            invitee,
            reason: f.reason,
            manage_url: f.manage_url,
            has_invite: calendar.is_some(),
            invite_action,
            booking_uid: &uid,
        }
        .render()
        .map_err(|e| format!("text template: {e}"))?;
        let html = HtmlPart {
            subject: &subject,
            greeting: &greeting,
            headline: &headline,
            title: &title,
            when: &when,
            was: was.as_deref(),
            location: location.as_deref(),
            host,
            invitee,
            reason: f.reason,
            manage_url: f.manage_url,
            has_invite: calendar.is_some(),
            invite_action,
            booking_uid: &uid,
        }
        .render()
        .map_err(|e| format!("html template: {e}"))?;
        Ok(MessageContent {
            subject,
            text,
            html,
            calendar,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn times_are_local_with_the_zone_named_across_dst() {
        // Europe/Berlin leaves CET for CEST on 2027-03-28.
        assert_eq!(
            local_span(
                t("2027-03-26T09:00:00Z"),
                t("2027-03-26T09:30:00Z"),
                "Europe/Berlin"
            )
            .unwrap(),
            "Friday, 26 March 2027, 10:00–10:30 (Europe/Berlin, CET)"
        );
        assert_eq!(
            local_span(
                t("2027-03-29T09:00:00Z"),
                t("2027-03-29T09:30:00Z"),
                "Europe/Berlin"
            )
            .unwrap(),
            "Monday, 29 March 2027, 11:00–11:30 (Europe/Berlin, CEST)"
        );
        assert_eq!(
            local_span(t("2027-03-29T23:30:00Z"), t("2027-03-30T00:30:00Z"), "UTC").unwrap(),
            "Monday, 29 March 2027, 23:30–Tuesday, 30 March 2027, 00:30 (UTC, UTC)"
        );
        assert!(
            local_span(
                t("2027-03-29T09:00:00Z"),
                t("2027-03-29T09:30:00Z"),
                "Mars/Base"
            )
            .is_err()
        );
    }
}
