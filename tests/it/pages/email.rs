//! Self-service links in e-mails: the attendee's confirmation (a page booking or an API
//! booking alike) carries the booking's `/_b/` link — the same link the confirmation page
//! shows — and that link opens this booking's page; after a move the attendee's e-mail links
//! the new booking. Guests and hosts get no link (it can cancel the booking). Messages are read
//! at the SMTP sink and parsed by the independent MIME reader of `tests/it/notifications`.

use super::booking::{Browser, page_link, tomorrow};
use super::{assert_page, get};
use crate::notifications::{inspect, to};
use serde_json::{Value, json};
use testkit::{TestApp, both_backends};

both_backends!(
    confirmation_emails_carry_the_page_link,
    api_bookings_get_a_link_that_opens_them,
);

/// The one `<base>/_b/<token>` link in `text`, if any.
fn link_in(app: &TestApp, text: &str) -> Option<String> {
    let prefix = format!("{}/_b/", app.base_url);
    let start = text.find(&prefix)?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn text(m: &Value) -> &str {
    m["text"].as_str().unwrap_or_default()
}

async fn confirmation_emails_carry_the_page_link(app: TestApp) {
    let mut b = Browser::new(&app);
    let link = page_link(&mut b, "intro-call", tomorrow(&app, "10:00")).await;
    let r = app.drain_notifications().await;
    assert_eq!(r.sent, 2, "attendee and host: {r:?}");
    let parsed = inspect(&app.mail.wait_for(2).await);
    let ann = to(&parsed, "ann@example.com");
    eprintln!("--- the attendee's confirmation ---\n{}", text(ann));
    assert_eq!(
        link_in(&app, text(ann)),
        Some(format!("{}{link}", app.base_url)),
        "the e-mail links the page's link: {}",
        text(ann)
    );
    let html = ann["html"].as_str().unwrap_or_default();
    assert!(
        html.contains(&format!("href=\"{}{link}\"", app.base_url)),
        "{html}"
    );
    let host = to(&parsed, &app.a.email);
    assert_eq!(link_in(&app, text(host)), None, "{}", text(host));
}

async fn api_bookings_get_a_link_that_opens_them(app: TestApp) {
    let start = tomorrow(&app, "11:00");
    let body = json!({
        "event_type_id": app.a.event_type_id,
        "start": testkit::time::wire(start),
        "attendee": {"email": "ann@example.com", "name": "Ann Attendee", "timezone": "Europe/Berlin"},
        "guests": ["gus@example.com"],
    });
    let booking = app
        .a
        .api
        .post_json("/v1/bookings", &body, Some(&testkit::key()))
        .await
        .ok(201)
        .clone();
    // Another booking of the same attendee, so that a link naming the wrong one would show.
    let other = tomorrow(&app, "14:00");
    app.book(&app.a, app.a.event_type_id, other).await;
    app.drain_notifications().await;
    let parsed = inspect(&app.mail.messages());
    let ann = parsed
        .iter()
        .find(|m| {
            m["to"].as_str().unwrap_or("").contains("ann@example.com") && text(m).contains("11:00")
        })
        .unwrap_or_else(|| panic!("no confirmation of 11:00 to ann in {parsed:#?}"));
    let link = link_in(&app, text(ann)).unwrap_or_else(|| panic!("no link in {}", text(ann)));
    let gus = to(&parsed, "gus@example.com");
    assert_eq!(link_in(&app, text(gus)), None, "guests get no link");

    let path = link.strip_prefix(&app.base_url).unwrap();
    let page = get(&app, path).await;
    assert_page(&page, 200);
    assert!(page.text.contains("11:00–11:30"), "{}", page.text);
    assert!(page.text.contains("Ann Attendee"), "{}", page.text);
    assert!(!page.text.contains("14:00–14:30"), "{}", page.text);

    // Moved through the API: the attendee's e-mail links the new booking, whose page shows it.
    let uid = booking["uid"].as_str().unwrap();
    let to_start = tomorrow(&app, "16:00");
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{uid}/reschedule"),
            &json!({"start": testkit::time::wire(to_start)}),
            Some(&testkit::key()),
        )
        .await
        .ok(200);
    let before = app.mail.messages().len();
    app.drain_notifications().await;
    let all = app.mail.messages();
    let parsed = inspect(&all[before..]);
    let moved = to(&parsed, "ann@example.com");
    let new_link =
        link_in(&app, text(moved)).unwrap_or_else(|| panic!("no link in {}", text(moved)));
    assert_ne!(new_link, link);
    let page = get(&app, new_link.strip_prefix(&app.base_url).unwrap()).await;
    assert_page(&page, 200);
    assert!(page.text.contains("16:00–16:30"), "{}", page.text);
}
