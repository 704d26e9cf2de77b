//! The booking form and the invitee's link: booking through the page is booking through the
//! API (visible in `GET /v1/bookings`, same outbox message), CSRF refusal, a double submit makes
//! one booking, a taken time sends the invitee back, errors next to each field, confirmation,
//! `.ics`, cancel and reschedule (refused where the event type forbids them or the notice has
//! passed), and one booking's link cannot touch another.

use super::{assert_page, between, get, hrefs};
use http::Method;
use serde_json::Value;
use testkit::time::{BERLIN, at, days_after, hours};
use testkit::{ApiConfig, EventTypeSpec, Resp, TestApp, both_backends};

both_backends!(
    book_through_the_page_like_the_api,
    csrf_is_required,
    double_submit_makes_one_booking,
    a_taken_time_sends_the_invitee_back,
    form_errors_are_shown_next_to_each_field,
    invitee_cancels_and_reschedules,
    changes_refused_where_forbidden_or_notice_passed,
    links_are_unguessable_and_per_booking,
    a_start_outside_the_calendar_goes_back_to_it,
    a_reschedule_start_outside_the_calendar_goes_back_to_it,
);

both_backends!(
    config = ApiConfig {
        pages: http_api::state::PagesConfig {
            submissions_per_minute: 2,
            ..Default::default()
        },
        ..ApiConfig::default()
    };
    submissions_have_their_own_bucket,
);

/// A browser: remembers the CSRF cookie.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    fn keep_cookie(&mut self, r: &Resp) {
        if let Some(c) = r.header("set-cookie") {
            self.cookie = c.split(';').next().map(str::to_owned);
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let mut h = vec![("accept", "text/html")];
        let cookie = self.cookie.clone();
        if let Some(c) = &cookie {
            h.push(("cookie", c));
        }
        let r = self.app.anon().request(Method::GET, path, &h, None).await;
        self.keep_cookie(&r);
        r
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut h = vec![
            ("accept", "text/html"),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        let cookie = self.cookie.clone();
        if let Some(c) = &cookie {
            h.push(("cookie", c));
        }
        self.app
            .anon()
            .request(Method::POST, path, &h, Some(body.into_bytes()))
            .await
    }

    /// Posts the form of the page `form` (its CSRF token and idempotency key) to `path`, with
    /// `fields` after those two.
    pub async fn submit(&mut self, form: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
        let (csrf, key) = (hidden(form, "csrf_token"), hidden(form, "idempotency_key"));
        let mut all = vec![
            ("csrf_token", csrf.as_str()),
            ("idempotency_key", key.as_str()),
        ];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

/// The value of the hidden field `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    between(html, &format!("name=\"{name}\" value=\""), "\"")
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        .replace("&#43;", "+")
        .replace("&#58;", ":")
}

pub(super) fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

fn form_path(slug: &str, start: jiff::Timestamp) -> String {
    format!("/alice/{slug}/book?start={start}&tz=Europe/Berlin")
}

/// Opens the form for `start` and submits it with `extra` fields; returns the response.
async fn book(
    b: &mut Browser<'_>,
    slug: &str,
    start: jiff::Timestamp,
    extra: &[(&str, &str)],
) -> Resp {
    let form = b.get(&form_path(slug, start)).await;
    assert_page(&form, 200);
    let start_s = start.to_string();
    let mut fields = vec![("start", start_s.as_str()), ("tz", "Europe/Berlin")];
    fields.extend_from_slice(extra);
    b.submit(&form.text, &format!("/alice/{slug}/book"), &fields)
        .await
}

pub(super) async fn bookings(app: &TestApp) -> Vec<Value> {
    app.a
        .api
        .get("/v1/bookings?limit=100")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .clone()
}

async fn book_through_the_page_like_the_api(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "10:00");
    let r = book(
        &mut b,
        "intro-call",
        start,
        &[
            ("name", "Ann Attendee"),
            ("email", "ann@example.com"),
            ("guests", "g1@example.com\ng2@example.com"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    let link = r.header("location").unwrap().to_owned();
    assert!(
        link.starts_with("/_b/") && link.ends_with("?booked=1"),
        "{link}"
    );
    let page = b.get(&link).await;
    assert_page(&page, 200);
    assert!(page.text.contains("You are booked"));
    assert!(page.text.contains("Title intro-call with Alice Tester"));
    assert!(
        page.text.contains("10:00–10:30 (Europe/Berlin)"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Ann Attendee (ann@example.com)"));
    assert!(page.text.contains(&format!(
        "{}{}",
        app.base_url,
        link.trim_end_matches("?booked=1")
    )));
    // The API sees one booking like any other: same fields, the page's attendee and zone.
    let list = bookings(&app).await;
    assert_eq!(list.len(), 1);
    let bk = &list[0];
    assert_eq!(bk["status"], "confirmed");
    assert_eq!(
        bk["start_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        start
    );
    assert_eq!(bk["attendees"][0]["email"], "ann@example.com");
    assert_eq!(bk["attendees"][0]["timezone"], "Europe/Berlin");
    assert_eq!(bk["guests"].as_array().unwrap().len(), 2);
    assert_eq!(bk["event_type_id"], app.a.event_type_id.to_string());
    // The outbox has its booking.created message, as for an API booking.
    let pending = app
        .store
        .pending(domain::OrganizationId(app.a.org_id))
        .await
        .unwrap();
    assert!(
        pending.iter().any(|m| m.event == "booking.created"),
        "{pending:?}"
    );
    // The time is gone from the page and from the API.
    let day = get(
        &app,
        &format!(
            "/alice/intro-call?date={}&tz=Europe/Berlin",
            days_after(BERLIN, app.now(), 1)
        ),
    )
    .await;
    assert!(!day.text.contains(&format!("start={start}")));
    // .ics
    let path = link.trim_end_matches("?booked=1");
    let ics = b.get(&format!("{path}/event.ics")).await;
    assert_eq!(ics.status, 200);
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(ics.text.starts_with("BEGIN:VCALENDAR\r\n"), "{}", ics.text);
    assert!(
        ics.text
            .contains(&format!("UID:{}@", bk["uid"].as_str().unwrap()))
    );
    assert!(
        ics.text
            .contains(&format!("DTSTART:{}", start.strftime("%Y%m%dT%H%M%SZ")))
    );
    assert!(ics.text.contains("STATUS:CONFIRMED"));
    assert!(
        hrefs(
            &page.text,
            "https://calendar.google.com/calendar/render?action=TEMPLATE"
        )
        .len()
            == 1
    );
}

async fn csrf_is_required(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "11:00");
    let form = b.get(&form_path("intro-call", start)).await;
    let key = hidden(&form.text, "idempotency_key");
    let start_s = start.to_string();
    let base = [
        ("idempotency_key", key.as_str()),
        ("start", start_s.as_str()),
        ("tz", "Europe/Berlin"),
        ("name", "Ann"),
        ("email", "ann@example.com"),
    ];
    // No token.
    let r = b.post("/alice/intro-call/book", &base).await;
    assert_page(&r, 403);
    // A wrong token.
    let mut wrong = base.to_vec();
    wrong.push(("csrf_token", "AAAA"));
    assert_page(&b.post("/alice/intro-call/book", &wrong).await, 403);
    // The right token without its cookie (another browser).
    let mut other = Browser::new(&app);
    let token = hidden(&form.text, "csrf_token");
    let mut right = base.to_vec();
    right.push(("csrf_token", token.as_str()));
    assert_page(&other.post("/alice/intro-call/book", &right).await, 403);
    assert!(bookings(&app).await.is_empty());
    // With both, it books.
    assert_eq!(b.post("/alice/intro-call/book", &right).await.status, 303);
    assert_eq!(bookings(&app).await.len(), 1);
}

async fn double_submit_makes_one_booking(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "12:00");
    let form = b.get(&form_path("intro-call", start)).await;
    let (csrf, key) = (
        hidden(&form.text, "csrf_token"),
        hidden(&form.text, "idempotency_key"),
    );
    let start_s = start.to_string();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("start", start_s.as_str()),
        ("tz", "Europe/Berlin"),
        ("name", "Ann"),
        ("email", "ann@example.com"),
    ];
    let (b1, b2) = (
        Browser {
            app: &app,
            cookie: b.cookie.clone(),
        },
        Browser {
            app: &app,
            cookie: b.cookie.clone(),
        },
    );
    let (mut b1, mut b2) = (b1, b2);
    let (r1, r2) = tokio::join!(
        b1.post("/alice/intro-call/book", &fields),
        b2.post("/alice/intro-call/book", &fields)
    );
    assert_eq!(
        (r1.status, r2.status),
        (303, 303),
        "{} / {}",
        r1.describe(),
        r2.describe()
    );
    assert_eq!(r1.header("location"), r2.header("location"));
    // Once more, later: the same page again.
    let r3 = b.post("/alice/intro-call/book", &fields).await;
    assert_eq!(r3.header("location"), r1.header("location"));
    assert_eq!(bookings(&app).await.len(), 1);
}

async fn a_taken_time_sends_the_invitee_back(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "13:00");
    let form = b.get(&form_path("intro-call", start)).await;
    assert_page(&form, 200);
    // Meanwhile an API client takes the time.
    app.book(&app.a, app.a.event_type_id, start).await;
    let start_s = start.to_string();
    let r = b
        .submit(
            &form.text,
            "/alice/intro-call/book",
            &[
                ("start", start_s.as_str()),
                ("tz", "Europe/Berlin"),
                ("name", "Ann"),
                ("email", "ann@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    let back = r.header("location").unwrap().to_owned();
    let day = days_after(BERLIN, app.now(), 1);
    assert_eq!(
        back,
        format!(
            "/alice/intro-call?month={}&date={day}&tz=Europe/Berlin&taken=1",
            day.strftime("%Y-%m")
        )
    );
    let page = b.get(&back).await;
    assert_page(&page, 200);
    assert!(
        page.text.contains("was booked by someone else"),
        "{}",
        page.text
    );
    assert_eq!(bookings(&app).await.len(), 1);
    // Opening the form for a taken time sends the invitee back as well.
    let r = b.get(&form_path("intro-call", start)).await;
    assert_eq!(r.status, 303);
}

async fn form_errors_are_shown_next_to_each_field(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "14:00");
    let r = book(
        &mut b,
        "intro-call",
        start,
        &[
            ("name", ""),
            ("email", "ann@localhost"),
            ("guests", "not-an-address"),
        ],
    )
    .await;
    assert_page(&r, 422);
    assert!(r.text.contains("Enter your name."), "{}", r.text);
    assert!(r.text.contains("id=\"email-error\""));
    assert!(r.text.contains("aria-invalid=\"true\""));
    assert!(
        r.text.contains("value=\"ann@localhost\""),
        "values are kept"
    );
    assert!(
        r.text.contains("Please correct these 3 fields"),
        "{}",
        r.text
    );
    assert!(r.text.contains("href=\"#guests\""));
    assert!(bookings(&app).await.is_empty());
}

pub(super) async fn page_link(b: &mut Browser<'_>, slug: &str, start: jiff::Timestamp) -> String {
    let r = book(
        b,
        slug,
        start,
        &[("name", "Ann"), ("email", "ann@example.com")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    r.header("location")
        .unwrap()
        .trim_end_matches("?booked=1")
        .to_owned()
}

async fn invitee_cancels_and_reschedules(app: TestApp) {
    let mut b = Browser::new(&app);
    let link = page_link(&mut b, "intro-call", tomorrow(&app, "09:00")).await;
    // Reschedule: the calendar links times to the confirmation, which posts the move.
    let cal = b.get(&format!("{link}/reschedule")).await;
    assert_page(&cal, 200);
    let to = tomorrow(&app, "15:00");
    let confirm_href = hrefs(&cal.text, &format!("{link}/reschedule?start={to}"));
    assert_eq!(confirm_href.len(), 1, "{}", cal.text);
    let confirm = b.get(&confirm_href[0]).await;
    assert_page(&confirm, 200);
    let (csrf, key, start) = (
        hidden(&confirm.text, "csrf_token"),
        hidden(&confirm.text, "idempotency_key"),
        hidden(&confirm.text, "start"),
    );
    let r = b
        .post(
            &format!("{link}/reschedule"),
            &[
                ("csrf_token", csrf.as_str()),
                ("idempotency_key", key.as_str()),
                ("start", start.as_str()),
                ("tz", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    let new_link = r
        .header("location")
        .unwrap()
        .trim_end_matches("?moved=1")
        .to_owned();
    assert_ne!(new_link, link);
    let list = bookings(&app).await;
    assert_eq!(list.len(), 2);
    let moved: Vec<_> = list
        .iter()
        .map(|b| b["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(moved.contains(&"rescheduled".to_owned()) && moved.contains(&"confirmed".to_owned()));
    let pending = app
        .store
        .pending(domain::OrganizationId(app.a.org_id))
        .await
        .unwrap();
    assert!(pending.iter().any(|m| m.event == "booking.rescheduled"));
    // The old link shows the moved booking and offers no change.
    let old = b.get(&link).await;
    assert!(old.text.contains("Moved to another time"));
    assert!(!old.text.contains("/cancel\""));
    // Cancel the new one with a reason.
    let page = b.get(&new_link).await;
    assert!(page.text.contains("15:00–15:30"));
    let r = b
        .submit(
            &page.text,
            &format!("{new_link}/cancel"),
            &[("reason", "Something came up")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    let page = b.get(r.header("location").unwrap()).await;
    assert!(page.text.contains("Your booking was cancelled."));
    assert!(page.text.contains("Cancelled"));
    let current = list.iter().find(|x| x["status"] == "confirmed").unwrap();
    let got = app
        .get_booking(&app.a, current["uid"].as_str().unwrap())
        .await;
    assert_eq!(got["status"], "canceled");
    assert_eq!(got["cancellation_reason"], "Something came up");
}

async fn changes_refused_where_forbidden_or_notice_passed(app: TestApp) {
    // Rescheduling disallowed by the event type.
    let id = app
        .create_event_type(
            &app.a,
            EventTypeSpec {
                allow_reschedule: false,
                ..EventTypeSpec::individual("fixed")
            },
        )
        .await;
    assert!(!id.is_nil());
    let mut b = Browser::new(&app);
    let link = page_link(&mut b, "fixed", tomorrow(&app, "09:00")).await;
    let page = b.get(&link).await;
    assert!(
        !page.text.contains("/reschedule\""),
        "no reschedule offered"
    );
    assert!(page.text.contains("/cancel\""), "cancel still offered");
    let r = b.get(&format!("{link}/reschedule")).await;
    assert_page(&r, 409);
    let to = tomorrow(&app, "16:00").to_string();
    let r = b
        .post(
            &format!("{link}/reschedule"),
            &[
                ("csrf_token", &hidden(&page.text, "csrf_token")),
                ("idempotency_key", "k1"),
                ("start", &to),
                ("tz", "Europe/Berlin"),
            ],
        )
        .await;
    assert_page(&r, 409);
    // 24 hours of notice: once fewer remain, neither cancel nor reschedule.
    let id = app
        .create_event_type(
            &app.a,
            EventTypeSpec {
                minimum_notice_hours: 24,
                ..EventTypeSpec::individual("noticed")
            },
        )
        .await;
    assert!(!id.is_nil());
    let start = at(BERLIN, days_after(BERLIN, app.now(), 2), "12:00");
    let link = page_link(&mut b, "noticed", start).await;
    let page = b.get(&link).await;
    assert!(page.text.contains("/cancel\""));
    let (csrf, key) = (
        hidden(&page.text, "csrf_token"),
        hidden(&page.text, "idempotency_key"),
    );
    app.clock.set(start - hours(23));
    let page = b.get(&link).await;
    assert!(!page.text.contains("/cancel\""));
    assert!(
        page.text.contains("too close to the start"),
        "{}",
        page.text
    );
    let r = b
        .post(
            &format!("{link}/cancel"),
            &[
                ("csrf_token", csrf.as_str()),
                ("idempotency_key", key.as_str()),
                ("reason", ""),
            ],
        )
        .await;
    assert_page(&r, 409);
    let list = bookings(&app).await;
    assert!(list.iter().all(|b| b["status"] == "confirmed"), "{list:?}");
}

async fn links_are_unguessable_and_per_booking(app: TestApp) {
    let mut b = Browser::new(&app);
    let one = page_link(&mut b, "intro-call", tomorrow(&app, "09:00")).await;
    let two = page_link(&mut b, "intro-call", tomorrow(&app, "09:30")).await;
    assert_ne!(one, two);
    let token = one.trim_start_matches("/_b/");
    assert_eq!(token.len(), 64);
    // A changed character, another booking's uid under this tag, junk: all 404.
    let mut flipped: Vec<char> = token.chars().collect();
    flipped[40] = if flipped[40] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    for bad in [
        format!("/_b/{flipped}"),
        "/_b/x".to_owned(),
        format!("/_b/{}", &token[..63]),
    ] {
        let r = b.get(&bad).await;
        assert_page(&r, 404);
        let page = b.get(&one).await;
        let r = b.submit(&page.text, &format!("{bad}/cancel"), &[]).await;
        assert_page(&r, 404);
    }
    // Cancelling through one link leaves the other booking alone.
    let page = b.get(&one).await;
    assert_eq!(
        b.submit(&page.text, &format!("{one}/cancel"), &[])
            .await
            .status,
        303
    );
    let list = bookings(&app).await;
    let statuses: Vec<&str> = list.iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "canceled").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == "confirmed").count(),
        1,
        "{statuses:?}"
    );
    // An API booking of another organization is not reachable by editing the link either.
    let other = app
        .book(&app.b, app.b.event_type_id, tomorrow(&app, "10:00"))
        .await;
    assert!(other["uid"].is_string());
}

async fn submissions_have_their_own_bucket(app: TestApp) {
    let mut b = Browser::new(&app);
    let start = tomorrow(&app, "10:00");
    for _ in 0..2 {
        let r = book(&mut b, "intro-call", start, &[("name", ""), ("email", "")]).await;
        assert_page(&r, 422);
    }
    let r = book(
        &mut b,
        "intro-call",
        start,
        &[("name", "Ann"), ("email", "ann@example.com")],
    )
    .await;
    assert_page(&r, 429);
    assert_eq!(
        r.header("ratelimit-policy"),
        Some("\"page_submit\";q=2;w=60")
    );
    // Views are a separate bucket.
    assert_page(&b.get(&form_path("intro-call", start)).await, 200);
    assert!(bookings(&app).await.is_empty());
}

/// A `start` outside the years 0001–9999 (the API's rule) in the form's URL or its submission
/// is no start: the invitee goes back to the calendar, never to an error page.
async fn a_start_outside_the_calendar_goes_back_to_it(app: TestApp) {
    let mut b = Browser::new(&app);
    for bad in ["0000-06-01T10:00:00Z", "-000001-06-01T10:00:00Z"] {
        let r = b
            .get(&format!(
                "/alice/intro-call/book?start={bad}&tz=Europe/Berlin"
            ))
            .await;
        assert_eq!(r.status, 303, "GET {bad}: {}", r.describe());
        assert_eq!(r.header("location"), Some("/alice/intro-call"), "{bad}");
    }
    let form = b
        .get(&form_path("intro-call", tomorrow(&app, "10:00")))
        .await;
    assert_page(&form, 200);
    let r = b
        .submit(
            &form.text,
            "/alice/intro-call/book",
            &[
                ("start", "0000-06-01T10:00:00Z"),
                ("tz", "Europe/Berlin"),
                ("name", "Ann"),
                ("email", "ann@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "POST: {}", r.describe());
    assert_eq!(r.header("location"), Some("/alice/intro-call"));
    assert!(bookings(&app).await.is_empty());
}

/// The same rule on a booking's reschedule link: a `start` outside 0001–9999 in its URL shows
/// the calendar again, and in its submission sends the invitee back to it; the booking stays.
async fn a_reschedule_start_outside_the_calendar_goes_back_to_it(app: TestApp) {
    let mut b = Browser::new(&app);
    let link = page_link(&mut b, "intro-call", tomorrow(&app, "09:00")).await;
    let calendar = format!("{link}/reschedule?start=");
    for bad in ["0000-06-01T10:00:00Z", "-000001-06-01T10:00:00Z"] {
        let r = b
            .get(&format!("{link}/reschedule?start={bad}&tz=Europe/Berlin"))
            .await;
        assert_page(&r, 200);
        assert!(
            !hrefs(&r.text, &calendar).is_empty(),
            "GET {bad}: the calendar, not a confirmation: {}",
            r.text
        );
    }
    let confirm = b
        .get(&format!(
            "{link}/reschedule?start={}",
            tomorrow(&app, "15:00")
        ))
        .await;
    assert_page(&confirm, 200);
    let r = b
        .submit(
            &confirm.text,
            &format!("{link}/reschedule"),
            &[("start", "0000-06-01T10:00:00Z"), ("tz", "Europe/Berlin")],
        )
        .await;
    assert_eq!(r.status, 303, "POST: {}", r.describe());
    assert_eq!(
        r.header("location"),
        Some(format!("{link}/reschedule").as_str())
    );
    let list = bookings(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "confirmed");
}
