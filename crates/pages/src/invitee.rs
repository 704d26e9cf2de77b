//! The invitee's pages: the booking form (name, e-mail, the event type's questions, guests;
//! each error next to its field and in a summary linking to it), the booking page behind the
//! invitee's link (confirmation, both zones, place, `.ics` and "add to calendar", cancel and
//! reschedule when allowed), and the iCalendar file.

use crate::booking::{Chrome, location_label, query_value, when_label};
use askama::Template;
use domain::availability::Zone;
use domain::booking::{Booking, BookingStatus};
use domain::booking_page::{EventTypePage, QuestionKind, question_field};
use domain::event_type::EventType;
use domain::validate::FieldErrors;
use jiff::Timestamp;
use std::collections::HashMap;

/// One form control.
pub struct FormField {
    pub id: String,
    pub name: String,
    pub label: String,
    pub input_type: &'static str,
    pub autocomplete: Option<&'static str>,
    pub textarea: bool,
    pub checkbox: bool,
    pub required: bool,
    pub value: String,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub described_by: Option<String>,
}

fn field_id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[derive(Template)]
#[template(path = "book.html")]
struct Book<'a> {
    chrome: Chrome,
    host_name: String,
    title: &'a str,
    when: String,
    change_href: String,
    notice: Option<&'a str>,
    errors: Vec<(String, String)>,
    csrf: &'a str,
    idempotency_key: &'a str,
    start: String,
    zone: &'a str,
    fields: Vec<FormField>,
}

/// What the booking form shows.
pub struct BookForm<'a> {
    pub page: &'a EventTypePage,
    pub start: Timestamp,
    pub end: Timestamp,
    pub zone: &'a Zone,
    pub csrf: &'a str,
    pub idempotency_key: &'a str,
    /// The submitted values by field name (`name`, `email`, `guests`, `q.<key>`).
    pub values: &'a HashMap<String, String>,
    pub errors: &'a FieldErrors,
    pub notice: Option<&'a str>,
}

/// The booking form page.
pub fn book_page(f: &BookForm<'_>) -> Result<String, askama::Error> {
    let et = &f.page.event_type;
    let error_of = |name: &str| {
        let msgs: Vec<&str> = f
            .errors
            .0
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    };
    let value = |name: &str| f.values.get(name).cloned().unwrap_or_default();
    let mut fields = Vec::new();
    let mut push = |name: String,
                    label: String,
                    input_type: &'static str,
                    autocomplete: Option<&'static str>,
                    required: bool,
                    hint: Option<String>,
                    kind: Option<QuestionKind>| {
        let id = field_id(&name);
        let error = error_of(&name);
        let mut described = Vec::new();
        if hint.is_some() {
            described.push(format!("{id}-hint"));
        }
        if error.is_some() {
            described.push(format!("{id}-error"));
        }
        fields.push(FormField {
            value: value(&name),
            id,
            name,
            label,
            input_type,
            autocomplete,
            textarea: kind == Some(QuestionKind::Textarea),
            checkbox: kind == Some(QuestionKind::Checkbox),
            required,
            hint,
            error,
            described_by: (!described.is_empty()).then(|| described.join(" ")),
        });
    };
    push(
        "name".into(),
        "Your name".into(),
        "text",
        Some("name"),
        true,
        None,
        None,
    );
    push(
        "email".into(),
        "E-mail address".into(),
        "email",
        Some("email"),
        true,
        Some("We send the confirmation here.".into()),
        None,
    );
    for q in &et.questions {
        let kind = QuestionKind::of(q);
        let (input_type, autocomplete) = match kind {
            QuestionKind::Email => ("email", Some("email")),
            QuestionKind::Phone => ("tel", Some("tel")),
            QuestionKind::Number => ("number", None),
            QuestionKind::Url => ("url", Some("url")),
            QuestionKind::Checkbox => ("checkbox", None),
            QuestionKind::Text | QuestionKind::Textarea => ("text", None),
        };
        let hint = (kind == QuestionKind::Phone)
            .then(|| "In international format, e.g. +49 30 1234567.".to_owned());
        push(
            question_field(q),
            q.label.clone(),
            input_type,
            autocomplete,
            q.required,
            hint,
            Some(kind),
        );
    }
    push(
        "guests".into(),
        "Guests".into(),
        "text",
        None,
        false,
        Some(format!(
            "E-mail addresses of up to {} people to invite as well, one per line.",
            domain::booking::MAX_GUESTS
        )),
        Some(QuestionKind::Textarea),
    );
    let errors = fields
        .iter()
        .filter_map(|fl| {
            fl.error
                .as_ref()
                .map(|e| (fl.id.clone(), format!("{}: {e}", fl.label)))
        })
        .collect();
    let tz = query_value(f.zone.name());
    let date = f.zone.date_of(f.start);
    Book {
        chrome: Chrome::new(
            &f.page.host.organization.name,
            f.zone.name(),
            Some(&et.color),
            false,
        ),
        host_name: host_name(f.page),
        title: &et.title,
        when: when_label(f.start, f.end, f.zone),
        change_href: format!(
            "{}?month={}&date={date}&tz={tz}",
            crate::booking::event_type_path(f.page),
            date.strftime("%Y-%m")
        ),
        notice: f.notice,
        errors,
        csrf: f.csrf,
        idempotency_key: f.idempotency_key,
        start: f.start.to_string(),
        zone: f.zone.name(),
        fields,
    }
    .render()
}

fn host_name(page: &EventTypePage) -> String {
    let u = &page.host.user;
    u.display_name().unwrap_or_else(|| {
        u.username
            .as_ref()
            .map_or_else(|| "Host".to_owned(), |n| n.as_str().to_owned())
    })
}

#[derive(Template)]
#[template(path = "booking_view.html")]
struct BookingViewTemplate<'a> {
    chrome: Chrome,
    flash: Option<&'a str>,
    heading: &'static str,
    title: String,
    host_name: String,
    when_invitee: String,
    when_host: Option<String>,
    place: String,
    attendee: String,
    status: &'static str,
    holds_time: bool,
    ics_href: String,
    google_href: String,
    manage_url: String,
    can_change: bool,
    can_cancel: bool,
    can_reschedule: bool,
    reschedule_href: String,
    cancel_action: String,
    csrf: &'a str,
    idempotency_key: &'a str,
    why_not: Option<&'a str>,
}

/// What the invitee's booking page shows.
pub struct BookingView<'a> {
    pub org_name: &'a str,
    pub booking: &'a Booking,
    pub event_type: Option<&'a EventType>,
    pub host_name: String,
    /// The event type's (host's) zone.
    pub host_zone: &'a Zone,
    /// `/_b/<token>` (relative) and the absolute address for the link box.
    pub path: &'a str,
    pub absolute_url: String,
    pub flash: Option<&'a str>,
    pub can_cancel: bool,
    pub can_reschedule: bool,
    /// Why the booking can no longer be changed, when it cannot.
    pub why_not: Option<&'a str>,
    pub csrf: &'a str,
    pub idempotency_key: &'a str,
}

/// Where the meeting happens, in words.
pub fn place(b: &Booking, et: Option<&EventType>) -> String {
    let from_type = et.and_then(|e| e.locations.first()).map(location_label);
    match &b.location {
        Some(l) => {
            let kind = l.kind.as_deref().map(|k| {
                location_label(&domain::event_type::Location {
                    kind: k.to_owned(),
                    label: String::new(),
                    value: None,
                })
            });
            let detail = l.url.clone().or_else(|| l.value.clone());
            match (from_type.or(kind), detail) {
                (Some(k), Some(d)) => format!("{k}: {d}"),
                (Some(k), None) => k,
                (None, Some(d)) => d,
                (None, None) => "The host will send the details".into(),
            }
        }
        None => from_type.unwrap_or_else(|| "The host will send the details".into()),
    }
}

/// The invitee's booking page.
pub fn booking_page(v: &BookingView<'_>) -> Result<String, askama::Error> {
    let b = v.booking;
    let zone = Zone::parse(&b.timezone).unwrap_or_else(|_| v.host_zone.clone());
    let when_host =
        (zone.name() != v.host_zone.name()).then(|| when_label(b.start, b.end, v.host_zone));
    let (heading, status) = match b.status {
        BookingStatus::Confirmed => ("Your booking", "Confirmed"),
        BookingStatus::Pending => ("Your booking request", "Waiting for the host to confirm"),
        BookingStatus::Canceled => ("Cancelled booking", "Cancelled"),
        BookingStatus::Rescheduled => ("Moved booking", "Moved to another time"),
    };
    let title = b
        .title
        .clone()
        .or_else(|| v.event_type.map(|e| e.title.clone()))
        .unwrap_or_else(|| "Meeting".into());
    let attendee = b
        .attendees
        .first()
        .map(|a| {
            if a.name.is_empty() {
                a.email.clone()
            } else {
                format!("{} ({})", a.name, a.email)
            }
        })
        .unwrap_or_default();
    let place = place(b, v.event_type);
    let google = format!(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text={}&dates={}/{}&details={}&location={}",
        query_value(&format!("{title} with {}", v.host_name)),
        b.start.strftime("%Y%m%dT%H%M%SZ"),
        b.end.strftime("%Y%m%dT%H%M%SZ"),
        query_value(&format!("Your booking: {}", v.absolute_url)),
        query_value(&place),
    );
    BookingViewTemplate {
        chrome: Chrome::new(
            v.org_name,
            zone.name(),
            v.event_type.map(|e| e.color.as_str()),
            false,
        ),
        flash: v.flash,
        heading,
        when_invitee: when_label(b.start, b.end, &zone),
        when_host,
        title,
        host_name: v.host_name.clone(),
        place,
        attendee,
        status,
        holds_time: b.status.holds_time(),
        ics_href: format!("{}/event.ics", v.path),
        google_href: google,
        manage_url: v.absolute_url.clone(),
        can_change: v.can_cancel || v.can_reschedule,
        can_cancel: v.can_cancel,
        can_reschedule: v.can_reschedule,
        reschedule_href: format!("{}/reschedule", v.path),
        cancel_action: format!("{}/cancel", v.path),
        csrf: v.csrf,
        idempotency_key: v.idempotency_key,
        why_not: v.why_not,
    }
    .render()
}

#[derive(Template)]
#[template(path = "reschedule.html")]
struct RescheduleTemplate<'a> {
    chrome: Chrome,
    title: &'a str,
    old_when: String,
    new_when: String,
    action: &'a str,
    back: &'a str,
    start: &'a str,
    zone: &'a str,
    csrf: &'a str,
    idempotency_key: &'a str,
}

/// The confirmation step of a reschedule.
pub struct RescheduleConfirm<'a> {
    pub org_name: &'a str,
    pub color: &'a str,
    pub title: &'a str,
    pub old_when: String,
    pub new_when: String,
    pub action: &'a str,
    pub back: &'a str,
    pub start: &'a str,
    pub zone: &'a str,
    pub csrf: &'a str,
    pub idempotency_key: &'a str,
}

/// "Move my booking to …?".
pub fn reschedule_confirm(v: &RescheduleConfirm<'_>) -> Result<String, askama::Error> {
    RescheduleTemplate {
        chrome: Chrome::new(v.org_name, v.zone, Some(v.color), false),
        title: v.title,
        old_when: v.old_when.clone(),
        new_when: v.new_when.clone(),
        action: v.action,
        back: v.back,
        start: v.start,
        zone: v.zone,
        csrf: v.csrf,
        idempotency_key: v.idempotency_key,
    }
    .render()
}

/// RFC 5545 TEXT escaping.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The booking as an iCalendar file (`METHOD:PUBLISH`, one `VEVENT`, UTC times).
pub fn ics(
    b: &Booking,
    title: &str,
    host_name: &str,
    place: &str,
    url: &str,
    domain: &str,
    now: Timestamp,
) -> String {
    let stamp = |t: Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
    let status = match b.status {
        BookingStatus::Canceled | BookingStatus::Rescheduled => "CANCELLED",
        BookingStatus::Pending => "TENTATIVE",
        BookingStatus::Confirmed => "CONFIRMED",
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Slotbook//Booking pages//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@{}", b.uid, ics_text(domain)),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(b.start)),
        format!("DTEND:{}", stamp(b.end)),
        format!("SUMMARY:{}", ics_text(&format!("{title} with {host_name}"))),
        format!("LOCATION:{}", ics_text(place)),
        format!("DESCRIPTION:{}", ics_text(&format!("Your booking: {url}"))),
        format!("URL:{url}"),
        format!("STATUS:{status}"),
        format!("SEQUENCE:{}", b.version - 1),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_escapes_and_folds() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        fold(&"é".repeat(50), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), "é".repeat(50));
    }
}
