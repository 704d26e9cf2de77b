//! The booking pages in a real browser (headless Chromium through `testkit::Browser`), twice:
//! with JavaScript (SQLite) and without it (Postgres). Each run opens the event type's `url`
//! (as the API reports it), picks a day and a time, submits the form once with errors and once
//! right, sees the confirmation, checks the booking through `GET /v1/bookings`, then opens the
//! self-service link, moves the booking and cancels it. In the JavaScript run axe-core is
//! injected into every page and must report no serious or critical violation (see [`Audit`]);
//! the pages at a phone's width (375 px) must not scroll sideways in both runs. Screenshots go to `<target>/test-output/pages-browser-{js,no-js}/`.
//!
//! The browser's zone is America/New_York while the event type's is Europe/Berlin: with
//! JavaScript, `tz.js` switches the page to the browser's zone; without it, the page stays in
//! Berlin time until the invitee uses the zone picker — which is also how the test proves that
//! the second run really runs no script.

use serde_json::Value;
use testkit::browser::{AxeViolation, Options};
use testkit::{Backend, Browser, TestApp};

const BROWSER_ZONE: &str = "America/New_York";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_move_and_cancel_in_chromium_with_javascript() {
    let app = testkit::spawn_app(Backend::Sqlite).await.unwrap();
    walk(&app, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_move_and_cancel_in_chromium_without_javascript() {
    let Some(app) = testkit::spawn_app(Backend::Postgres).await else {
        return;
    };
    walk(&app, false).await;
}

/// The violations found so far, per page. Off without JavaScript: axe-core's run is
/// asynchronous and its timers never fire while the page's scripts are blocked; the pages are
/// the same server-rendered HTML in both runs.
struct Audit {
    on: bool,
    found: Vec<(String, AxeViolation)>,
}

impl Audit {
    async fn check(&mut self, b: &Browser, page: &str) {
        if !self.on {
            return;
        }
        for v in b.axe().await {
            self.found.push((page.to_owned(), v));
        }
    }

    fn assert_clean(&self) {
        let report: Vec<String> = self
            .found
            .iter()
            .map(|(page, v)| {
                format!(
                    "{page}: {} ({}): {} at {:?}",
                    v.id, v.impact, v.help, v.targets
                )
            })
            .collect();
        assert!(
            report.is_empty(),
            "axe-core found serious or critical violations:\n{}",
            report.join("\n")
        );
    }
}

async fn bookings(app: &TestApp) -> Vec<Value> {
    app.a
        .api
        .get("/v1/bookings?limit=100")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .clone()
}

/// The `start` query value of an `href` (URL-decoded).
fn start_of(href: &str) -> jiff::Timestamp {
    let url = reqwest::Url::parse("http://page.invalid/")
        .unwrap()
        .join(href)
        .unwrap();
    let start = url
        .query_pairs()
        .find(|(k, _)| k == "start")
        .unwrap_or_else(|| panic!("no start in {href}"))
        .1
        .into_owned();
    start.parse().unwrap()
}

async fn href(b: &Browser, css: &str) -> String {
    b.attr(css, "href")
        .await
        .unwrap_or_else(|| panic!("{css} has no href"))
}

/// The document is no wider than the window (no sideways scrolling).
async fn assert_fits(b: &Browser, page: &str) {
    let widths = b
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await;
    let (doc, win) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(
        doc <= win,
        "{page} is {doc} px wide in a {win} px window (scrolls sideways)"
    );
}

async fn walk(app: &TestApp, js: bool) {
    let name = if js {
        "pages-browser-js"
    } else {
        "pages-browser-no-js"
    };
    let b = Browser::start_with(
        name,
        Options {
            javascript: js,
            timezone: Some(BROWSER_ZONE.to_owned()),
            ..Options::default()
        },
    )
    .await;
    let mut audit = Audit {
        on: js,
        found: Vec::new(),
    };
    let email = if js {
        "ann@example.com"
    } else {
        "nojs@example.com"
    };

    // ---- the event type's url, as the API reports it ----
    let et = app
        .a
        .api
        .get(&format!("/v1/event-types/{}", app.a.event_type_id))
        .await
        .ok(200)
        .clone();
    let url = et["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{}/alice/intro-call", app.base_url));
    b.goto(&url).await;
    b.wait_for("table.calendar").await;
    if js {
        // tz.js moved the page to the browser's zone.
        b.wait_for_url("the browser's zone in the URL", |u| {
            u.contains("tz=America%2FNew_York")
        })
        .await;
        b.wait_for("table.calendar").await;
    } else {
        // No script ran: the page stays in the event type's zone; the picker changes it.
        assert_eq!(b.url().await, url);
        assert!(b.text().await.contains("Times are shown in Europe/Berlin"));
        b.select("select#tz", BROWSER_ZONE).await;
        b.click("form.tz button[type=submit]").await;
        b.wait_for_url("the picked zone in the URL", |u| {
            u.contains("tz=America%2FNew_York")
        })
        .await;
    }
    assert!(
        b.text().await.contains("America/New_York"),
        "{}",
        b.text().await
    );

    // ---- pick a day (not the preselected one) and a time ----
    b.click("table.calendar a:not([aria-current])").await;
    b.wait_for_url("a chosen day", |u| u.contains("date="))
        .await;
    b.wait_for("ul.slots a").await;
    b.screenshot("month-view").await;
    audit.check(&b, "month view").await;
    let slot = href(&b, "ul.slots a").await;
    let start = start_of(&slot);
    b.click("ul.slots a").await;
    b.wait_for("form.booking").await;

    // ---- the form: errors first, then right ----
    b.fill("#email", "not-an-address").await;
    b.click("form.booking button[type=submit]").await;
    b.wait_for(".error-summary").await;
    let text = b.text().await;
    assert!(text.contains("Enter your name."), "{text}");
    b.screenshot("form-with-errors").await;
    audit.check(&b, "form with errors").await;
    b.fill("#name", "Ann Attendee").await;
    b.clear("#email").await;
    b.fill("#email", email).await;
    b.click("form.booking button[type=submit]").await;
    let confirmed = b
        .wait_for_url("the confirmation", |u| {
            u.contains("/_b/") && u.contains("booked=1")
        })
        .await;
    b.wait_for(".link-box").await;
    let text = b.text().await;
    assert!(text.contains("You are booked"), "{text}");
    assert!(text.contains("Ann Attendee"), "{text}");
    assert!(text.contains("America/New_York"), "{text}");
    b.screenshot("confirmation").await;
    audit.check(&b, "confirmation").await;
    let link = b.text_of(".link-box").await;
    assert!(
        confirmed.starts_with(&link),
        "{confirmed} is not under {link}"
    );

    // ---- the API sees the booking ----
    let list = bookings(app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let first = &list[0];
    assert_eq!(first["status"], "confirmed");
    assert_eq!(
        first["start_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        start
    );
    assert_eq!(first["attendees"][0]["email"], email);
    assert_eq!(first["attendees"][0]["name"], "Ann Attendee");
    assert_eq!(first["attendees"][0]["timezone"], BROWSER_ZONE);

    // ---- the self-service link: move the booking ----
    b.goto(&link).await;
    b.wait_for("a.button[href$='/reschedule']").await;
    b.click("a.button[href$='/reschedule']").await;
    b.wait_for("ul.slots a").await;
    assert!(
        b.text().await.contains("You are moving your booking of"),
        "{}",
        b.text().await
    );
    b.screenshot("reschedule-calendar").await;
    audit.check(&b, "reschedule calendar").await;
    let to = start_of(&href(&b, "ul.slots a").await);
    assert_ne!(to, start, "the booked time is not offered again");
    b.click("ul.slots a").await;
    b.wait_for("form button.primary").await;
    audit.check(&b, "reschedule confirmation").await;
    b.click("form button.primary").await;
    b.wait_for_url("the moved booking", |u| u.contains("moved=1"))
        .await;
    b.wait_for(".link-box").await;
    assert!(b.text().await.contains("Your booking was moved"));
    b.screenshot("moved").await;
    audit.check(&b, "moved booking").await;
    let list = bookings(app).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let moved = list
        .iter()
        .find(|x| x["status"] == "confirmed")
        .unwrap_or_else(|| panic!("no confirmed booking in {list:?}"));
    assert_eq!(
        moved["start_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        to
    );
    assert!(list.iter().any(|x| x["status"] == "rescheduled"));

    // ---- cancel with a reason ----
    b.fill("#reason", "Something came up").await;
    b.click("form[action$='/cancel'] button[type=submit]").await;
    b.wait_for_url("the cancelled booking", |u| u.contains("cancelled"))
        .await;
    b.wait_for("p.ok").await;
    assert!(b.text().await.contains("Your booking was cancelled."));
    b.screenshot("cancelled").await;
    audit.check(&b, "cancelled booking").await;
    let got = app
        .get_booking(&app.a, moved["uid"].as_str().unwrap())
        .await;
    assert_eq!(got["status"], "canceled", "{got}");
    assert_eq!(got["cancellation_reason"], "Something came up", "{got}");

    // ---- phone width ----
    b.resize(375, 812).await;
    b.goto(&format!("{url}?tz=America/New_York")).await;
    b.wait_for("ul.slots a").await;
    assert_fits(&b, "the month view").await;
    b.screenshot("phone-month-view").await;
    audit.check(&b, "month view (phone)").await;
    b.click("ul.slots a").await;
    b.wait_for("form.booking").await;
    b.click("form.booking button[type=submit]").await;
    b.wait_for(".error-summary").await;
    assert_fits(&b, "the form").await;
    b.screenshot("phone-form-with-errors").await;
    audit.check(&b, "form with errors (phone)").await;
    b.goto(&link).await;
    b.wait_for(".link-box").await;
    assert_fits(&b, "the booking page").await;
    b.screenshot("phone-booking").await;
    audit.check(&b, "booking page (phone)").await;

    let shots = std::fs::read_dir(&b.output).unwrap().count();
    assert_eq!(shots, 9, "screenshots in {}", b.output.display());
    b.close().await;
    audit.assert_clean();
}
