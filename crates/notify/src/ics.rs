//! A small iCalendar writer (RFC 5545) for iTIP invites (RFC 5546): `METHOD:REQUEST` on create
//! and reschedule, `METHOD:CANCEL` on cancel, one `VEVENT` with a `UID` stable across the
//! reschedule chain, `SEQUENCE`, `DTSTAMP`, `DTSTART`/`DTEND` in UTC, `ORGANIZER` and
//! `ATTENDEE`s. TEXT values are escaped (§3.3.11), parameter values quoted when needed
//! (§3.2), and content lines folded at 75 octets without splitting a UTF-8 character (§3.1).
//!
//! Hand-written because the maintained `icalendar` crate depends on chrono, which the workspace
//! keeps out (`deny.toml`); tests parse the output with an independent parser (Python
//! `icalendar`, `tests/it/notifications`).

use domain::notification::CalendarMethod;
use jiff::Timestamp;

/// One participant.
#[derive(Debug, Clone)]
pub struct Person<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
}

/// The event an invite describes.
#[derive(Debug, Clone)]
pub struct Invite<'a> {
    pub method: CalendarMethod,
    /// Stable per booking chain, e.g. `<first booking uid>@slotbook`.
    pub uid: &'a str,
    pub sequence: i32,
    pub stamp: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: &'a str,
    pub description: Option<&'a str>,
    pub location: Option<&'a str>,
    pub url: Option<&'a str>,
    pub organizer: Option<Person<'a>>,
    pub attendees: Vec<Person<'a>>,
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: DQUOTE is not allowed at all (dropped, with control characters); values
/// holding `:`, `;` or `,` are quoted.
pub fn param_value(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Folds one content line to at most 75 octets per physical line (continuations start with a
/// space), never inside a UTF-8 sequence, and ends it with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0usize;
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
    out
}

fn mailto(email: &str) -> String {
    format!("mailto:{}", email.trim())
}

/// Renders the calendar object.
pub fn render(inv: &Invite<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "PRODID:-//Slotbook//Notifications//EN".into(),
        "VERSION:2.0".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{}", inv.method.as_str()),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape_text(inv.uid)),
        format!("SEQUENCE:{}", inv.sequence),
        format!("DTSTAMP:{}", utc(inv.stamp)),
        format!("DTSTART:{}", utc(inv.start)),
        format!("DTEND:{}", utc(inv.end)),
        format!("SUMMARY:{}", escape_text(inv.summary)),
    ];
    if let Some(d) = inv.description {
        lines.push(format!("DESCRIPTION:{}", escape_text(d)));
    }
    if let Some(l) = inv.location {
        lines.push(format!("LOCATION:{}", escape_text(l)));
    }
    if let Some(u) = inv.url {
        lines.push(format!("URL:{}", u.trim()));
    }
    if let Some(o) = &inv.organizer {
        let cn = o
            .name
            .map(|n| format!(";CN={}", param_value(n)))
            .unwrap_or_default();
        lines.push(format!("ORGANIZER{cn}:{}", mailto(o.email)));
    }
    let partstat = match inv.method {
        CalendarMethod::Request => ";PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
        CalendarMethod::Cancel => "",
    };
    for a in &inv.attendees {
        let cn = a
            .name
            .map(|n| format!(";CN={}", param_value(n)))
            .unwrap_or_default();
        lines.push(format!(
            "ATTENDEE{cn};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT{partstat}:{}",
            mailto(a.email)
        ));
    }
    lines.push(
        match inv.method {
            CalendarMethod::Request => "STATUS:CONFIRMED",
            CalendarMethod::Cancel => "STATUS:CANCELLED",
        }
        .into(),
    );
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("a;b,c\\d\r\ne\nf\u{7}"),
            "a\\;b\\,c\\\\d\\ne\\nf"
        );
    }

    #[test]
    fn params_are_quoted_when_needed() {
        assert_eq!(param_value("Ann Example"), "Ann Example");
        assert_eq!(param_value("Doe, \"Ann\""), "\"Doe, Ann\"");
        assert_eq!(param_value("a:b"), "\"a:b\"");
    }

    #[test]
    fn lines_fold_at_75_octets_on_character_boundaries() {
        let line = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&line);
        for physical in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
        assert_eq!(fold("SHORT:x"), "SHORT:x\r\n");
    }

    #[test]
    fn request_and_cancel() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let mut inv = Invite {
            method: CalendarMethod::Request,
            uid: "abc@slotbook",
            sequence: 2,
            stamp: t("2027-01-11T06:00:00Z"),
            start: t("2027-01-20T10:00:00Z"),
            end: t("2027-01-20T10:30:00Z"),
            summary: "Intro, call",
            description: None,
            location: Some("Room 1"),
            url: None,
            organizer: Some(Person {
                email: "host@example.com",
                name: Some("Hal Host"),
            }),
            attendees: vec![Person {
                email: "ann@example.com",
                name: None,
            }],
        };
        let s = render(&inv);
        for want in [
            "METHOD:REQUEST\r\n",
            "UID:abc@slotbook\r\n",
            "SEQUENCE:2\r\n",
            "DTSTART:20270120T100000Z\r\n",
            "DTEND:20270120T103000Z\r\n",
            "SUMMARY:Intro\\, call\r\n",
            "ORGANIZER;CN=Hal Host:mailto:host@example.com\r\n",
            "STATUS:CONFIRMED\r\n",
        ] {
            assert!(s.contains(want), "{want:?} missing in\n{s}");
        }
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n") && s.ends_with("END:VCALENDAR\r\n"));
        inv.method = CalendarMethod::Cancel;
        let s = render(&inv);
        assert!(s.contains("METHOD:CANCEL\r\n") && s.contains("STATUS:CANCELLED\r\n"));
        assert!(!s.contains("RSVP"));
    }
}
