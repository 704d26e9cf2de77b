//! Notifications (issue 16) end to end: bookings made, moved and canceled through real HTTP
//! produce e-mails at a real SMTP server on loopback ([`testkit::MailSink`]); every message is
//! parsed as MIME and its invite with an independent iCalendar parser (`inspect_mail.py`:
//! Python's `email` and PyPI `icalendar`). Outages and refusals, DST, and reminders under the
//! test clock. Both stores.

mod delivery;
mod invites;

use serde_json::{Value, json};
use testkit::{ReceivedMail, TestApp};
use uuid::Uuid;

/// Parses received messages with `inspect_mail.py`.
pub fn inspect(mails: &[ReceivedMail]) -> Vec<Value> {
    let dir = std::env::temp_dir().join(format!("slotbook-mail-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<_> = mails
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let p = dir.join(format!("{i}.eml"));
            std::fs::write(&p, &m.data).unwrap();
            p
        })
        .collect();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/it/notifications/inspect_mail.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(&paths)
        .output()
        .expect("running python3 (CI installs it with the icalendar package)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "inspect_mail.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The parsed message addressed to `email`.
pub fn to<'a>(parsed: &'a [Value], email: &str) -> &'a Value {
    parsed
        .iter()
        .find(|m| m["to"].as_str().unwrap_or("").contains(email))
        .unwrap_or_else(|| panic!("no message to {email} in {parsed:#?}"))
}

/// Books `start` with an attendee in `zone` and one guest; returns the booking.
pub async fn book(app: &TestApp, start: jiff::Timestamp, zone: &str) -> Value {
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": testkit::time::wire(start),
        "attendee": {"email": "ann@example.com", "name": "Ann Attendee", "timezone": zone},
        "guests": ["gus@example.com"],
    });
    app.a
        .api
        .post_json("/v1/bookings", &body, Some(&testkit::key()))
        .await
        .ok(201)
        .clone()
}

pub fn uid(b: &Value) -> &str {
    b["uid"].as_str().unwrap()
}
