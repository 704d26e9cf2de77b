//! `GET /{username}` and `GET /{username}/{slug}`: what they show, that the free times are the
//! ones `/v1/slots` lists, 404 pages, route precedence, the `[pages]` switch, assets and the
//! `page_view` bucket.

use super::{assert_page, between, get, hrefs};
use serde_json::Value;
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{ApiConfig, EventTypeSpec, TestApp, both_backends};

both_backends!(
    host_page_lists_active_event_types,
    event_type_page_shows_the_month_and_the_days_free_times,
    free_times_are_the_ones_the_api_lists,
    zone_picker_and_unknown_zones,
    group_pages_show_seats_left,
    round_robin_pages_name_the_hosts,
    unknown_and_inactive_are_404_pages,
    api_and_operations_routes_keep_precedence,
    assets_are_embedded_and_cached,
);

both_backends!(
    config = ApiConfig {
        pages: http_api::state::PagesConfig {
            enabled: false,
            ..Default::default()
        },
        ..ApiConfig::default()
    };
    disabled_pages_answer_the_api_404,
);

both_backends!(
    config = ApiConfig {
        pages: http_api::state::PagesConfig {
            views_per_minute: 3,
            ..Default::default()
        },
        anonymous_per_minute: 5,
        ..ApiConfig::default()
    };
    page_views_have_their_own_bucket,
);

async fn host_page_lists_active_event_types(app: TestApp) {
    let off = app
        .create_event_type(
            &app.a,
            EventTypeSpec {
                active: false,
                ..EventTypeSpec::individual("hidden-one")
            },
        )
        .await;
    assert!(!off.is_nil());
    let r = get(&app, "/alice").await;
    assert_page(&r, 200);
    assert!(r.text.contains("<h1>Alice Tester</h1>"), "{}", r.text);
    assert!(r.text.contains("Org A"));
    let links = hrefs(&r.text, "/alice/");
    assert!(links.contains(&"/alice/intro-call".to_owned()), "{links:?}");
    assert!(
        links.contains(&"/alice/workday-call".to_owned()),
        "{links:?}"
    );
    assert!(!r.text.contains("hidden-one"));
    // Bob's page shows Bob's event types only.
    let r = get(&app, "/bob").await;
    assert_page(&r, 200);
    assert!(hrefs(&r.text, "/alice/").is_empty());
    assert!(hrefs(&r.text, "/bob/").contains(&"/bob/intro-call".to_owned()));
}

async fn event_type_page_shows_the_month_and_the_days_free_times(app: TestApp) {
    // The clock starts Monday 2027-01-11 07:00 Berlin; the fixture is bookable all day.
    let r = get(
        &app,
        "/alice/workday-call?month=2027-01&date=2027-01-12&tz=Europe/Berlin",
    )
    .await;
    assert_page(&r, 200);
    assert!(r.text.contains("<h1>Title workday-call</h1>"), "{}", r.text);
    assert!(r.text.contains("30 minutes"));
    assert!(r.text.contains("January 2027"));
    assert!(r.text.contains("Tuesday, 12 January 2027"));
    // Workdays 09:00-17:00: 16 half-hour slots, the first at 09:00, the last at 16:30.
    let slots = hrefs(&r.text, "/alice/workday-call/book?");
    assert_eq!(slots.len(), 16, "{slots:?}");
    assert!(
        slots[0].contains(&format!(
            "start={}",
            at(BERLIN, days_after(BERLIN, app.now(), 1), "09:00")
        )),
        "{}",
        slots[0]
    );
    assert!(r.text.contains(">09:00<") && r.text.contains(">16:30<"));
    // Days with free times are links; weekends and past days are not.
    let days = hrefs(&r.text, "?month=2027-01&date=");
    assert!(
        days.iter().any(|d| d.contains("date=2027-01-11")),
        "{days:?}"
    );
    assert!(
        !days.iter().any(|d| d.contains("date=2027-01-10")),
        "Sunday 10th is past"
    );
    assert!(
        !days.iter().any(|d| d.contains("date=2027-01-16")),
        "Saturday"
    );
    assert!(
        days.iter().any(|d| d.contains("date=2027-01-15")),
        "{days:?}"
    );
    assert!(r.text.contains("aria-current=\"date\""));
    // No "previous month" before the current month; a next month link.
    assert!(hrefs(&r.text, "?month=2026-12").is_empty());
    assert_eq!(hrefs(&r.text, "?month=2027-02&tz=Europe/Berlin").len(), 1);
    // Without a date the first free day is chosen.
    let r = get(&app, "/alice/workday-call?month=2027-01&tz=Europe/Berlin").await;
    assert!(r.text.contains("Monday, 11 January 2027"), "{}", r.text);
    // The optional script is linked only while the URL names no zone.
    assert!(!r.text.contains("<script src="));
    let r = get(&app, "/alice/workday-call").await;
    assert_page(&r, 200);
    assert!(r.text.contains("<script src=\"/_assets/tz-"));
    assert!(r.text.contains("data-zone=\"Europe/Berlin\""));
}

fn starts_in(html: &str) -> Vec<String> {
    hrefs(html, "/alice/intro-call/book?")
        .iter()
        .filter_map(|h| between(h, "start=", "&").map(str::to_owned))
        .collect()
}

async fn free_times_are_the_ones_the_api_lists(app: TestApp) {
    // A booking at 10:00 tomorrow removes that time from the page and from /v1/slots alike.
    let day = days_after(BERLIN, app.now(), 1);
    app.book(&app.a, app.a.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let r = get(
        &app,
        &format!("/alice/intro-call?date={day}&tz=America/New_York"),
    )
    .await;
    assert_page(&r, 200);
    let page_starts = starts_in(&r.text);
    // The page's day is the New York date; ask the API for that local day.
    let api = app
        .a
        .api
        .get(&format!(
            "/v1/slots?event_type_id={}&start={day}&end={}&timezone=America/New_York",
            app.a.event_type_id,
            day.tomorrow().unwrap()
        ))
        .await;
    let api_starts: Vec<String> = api.ok(200)["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(page_starts, api_starts);
    assert!(!page_starts.contains(&at(BERLIN, day, "10:00").to_string()));
    assert!(page_starts.contains(&at(BERLIN, day, "10:30").to_string()));
    // 10:30 Berlin is 04:30 in New York.
    assert!(r.text.contains(">04:30<"), "{}", r.text);
    assert!(r.text.contains("Times are shown in America/New York"));
    let _ = wire(app.now());
}

async fn zone_picker_and_unknown_zones(app: TestApp) {
    let r = get(&app, "/alice/intro-call?month=2027-01&tz=Asia/Tokyo").await;
    assert_page(&r, 200);
    assert!(
        r.text.contains("<option selected>Asia/Tokyo</option>"),
        "picker keeps the zone"
    );
    assert!(r.text.contains("<label for=\"tz\">Time zone</label>"));
    assert!(r.text.contains("name=\"month\" value=\"2027-01\""));
    let r = get(
        &app,
        "/alice/intro-call?tz=Mars/Olympus&month=13-2027&date=nope",
    )
    .await;
    assert_page(&r, 200);
    assert!(r.text.contains("is not a time zone we know"), "{}", r.text);
    assert!(r.text.contains("<option selected>Europe/Berlin</option>"));
    assert!(r.text.contains("January 2027"));
}

async fn group_pages_show_seats_left(app: TestApp) {
    let id = app
        .create_event_type(&app.a, EventTypeSpec::group("workshop", 3))
        .await;
    let day = days_after(BERLIN, app.now(), 1);
    app.book_as(&app.a, id, at(BERLIN, day, "10:00"), "one@example.com")
        .await;
    let r = get(
        &app,
        &format!("/alice/workshop?date={day}&tz=Europe/Berlin"),
    )
    .await;
    assert_page(&r, 200);
    assert!(r.text.contains("Group: up to 3 people per time"));
    let ten = between(&r.text, ">10:00<small>", "</small>").unwrap();
    assert_eq!(ten, "2 seats left");
    let half = between(&r.text, ">10:30<small>", "</small>").unwrap();
    assert_eq!(half, "3 seats left");
}

async fn round_robin_pages_name_the_hosts(app: TestApp) {
    let carol = app.create_host(&app.a, "carol").await;
    let id = app
        .create_event_type(
            &app.a,
            EventTypeSpec::collective("team-call", &[&app.a.owner, &carol]),
        )
        .await;
    let day = days_after(BERLIN, app.now(), 1);
    // One host busy at 10:00: the time is still offered (the other host is free).
    app.book(&app.a, id, at(BERLIN, day, "10:00")).await;
    let r = get(
        &app,
        &format!("/alice/team-call?date={day}&tz=Europe/Berlin"),
    )
    .await;
    assert_page(&r, 200);
    assert!(
        r.text.contains("With one of: Alice Tester, Carol Tester"),
        "{}",
        r.text
    );
    assert!(r.text.contains(">10:00<"));
    // Carol hosts it, so it is on her page too (the URL stays the owner's).
    let r = get(&app, "/carol").await;
    assert!(hrefs(&r.text, "/alice/team-call").len() == 1, "{}", r.text);
}

async fn unknown_and_inactive_are_404_pages(app: TestApp) {
    let off = app
        .create_event_type(
            &app.a,
            EventTypeSpec {
                active: false,
                ..EventTypeSpec::individual("paused")
            },
        )
        .await;
    assert!(!off.is_nil());
    for path in [
        "/nobody",
        "/nobody/intro-call",
        "/alice/no-such-type",
        "/alice/paused",
        "/bob/workday-call-x",
    ] {
        let r = get(&app, path).await;
        assert_page(&r, 404);
        assert!(r.text.contains("Page not found"), "{path}: {}", r.text);
        // An API client (no HTML in Accept) keeps the JSON envelope.
        assert_api_404(&app.anon().get(path).await);
    }
    // A type of Bob is not reachable under Alice's name.
    assert_page(&get(&app, "/alice/intro-call").await, 200);
    let r = get(&app, "/bob/intro-call").await;
    assert_page(&r, 200);
    assert!(r.text.contains("Org B"));
    // Switching the type off makes its page disappear at once.
    app.set_event_type_active(&app.a, app.a.event_type_id, false)
        .await;
    assert_page(&get(&app, "/alice/intro-call").await, 404);
}

fn assert_api_404(r: &testkit::Resp) {
    assert_eq!(r.status, 404, "{}", r.describe());
    assert_eq!(r.code(), Some("not_found"), "{}", r.describe());
}

async fn api_and_operations_routes_keep_precedence(app: TestApp) {
    // No user may be called like a top-level route (the admin CLI's create-user refuses it
    // with a message naming the path), and the API and operations routes keep their handlers.
    for name in ["v1", "metrics", "healthz", "readyz", "oauth", "openapi"] {
        let err = server::admin::create_user(
            &app.admin,
            server::admin::NewUser {
                org: domain::OrganizationId(app.a.org_id),
                email: format!("{name}@example.com"),
                username: name.to_owned(),
                role: domain::organization::Role::Member,
                first_name: None,
                last_name: None,
                timezone: None,
                password: None,
            },
        )
        .await
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            format!(
                "--username '{name}' is reserved: the server uses the path /{name} itself; \
                 choose another username"
            )
        );
    }
    assert_eq!(get(&app, "/healthz").await.status, 200);
    assert_eq!(get(&app, "/readyz").await.status, 200);
    assert_eq!(get(&app, "/metrics").await.status, 200);
    let doc = get(&app, "/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.body.get("openapi").is_some());
    assert_eq!(
        get(&app, "/.well-known/oauth-authorization-server")
            .await
            .status,
        200
    );
    assert_api_404(&get(&app, "/.well-known/nothing").await);
    assert_api_404(&get(&app, "/.hidden").await);
    assert_api_404(&get(&app, "/a/b/c/d").await);
    // /v1 paths stay the API's: 401 without a token, the JSON 404 with one.
    assert_eq!(get(&app, "/v1/nothing").await.status, 401);
    assert_api_404(&app.a.api.get("/v1/nothing").await);
    assert_api_404(&app.a.api.get("/v1").await);
    assert_api_404(&app.a.api.get("/v1/nothing/book").await);
    let me: &Value = &app.a.api.get("/v1/me").await.ok(200).clone();
    assert_eq!(me["user"]["username"], "alice");
}

async fn assets_are_embedded_and_cached(app: TestApp) {
    let page = get(&app, "/alice/intro-call").await;
    let css = between(&page.text, "<link rel=\"stylesheet\" href=\"", "\"").unwrap();
    assert!(
        css.starts_with("/_assets/slotbook-") && css.ends_with(".css"),
        "{css}"
    );
    let r = get(&app, css).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(r.text.contains(":focus-visible"));
    // The event type colour (#7c3aed by default) is an accent sheet, not an inline style.
    let accent = hrefs(&page.text, "/_assets/accent-");
    assert_eq!(accent, ["/_assets/accent-7c3aed.css"]);
    let r = get(&app, &accent[0]).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("--accent: #7c3aed"), "{}", r.text);
    let js = between(&page.text, "<script src=\"", "\"").unwrap();
    let r = get(&app, js).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(r.text.contains("Intl.DateTimeFormat"));
    assert!(r.text.len() < 4096, "the script stays a few KB");
    assert_eq!(get(&app, "/_assets/slotbook-0000.css").await.status, 404);
}

async fn disabled_pages_answer_the_api_404(app: TestApp) {
    assert_api_404(&get(&app, "/alice").await);
    assert_api_404(&get(&app, "/alice/intro-call").await);
    assert_eq!(get(&app, "/healthz").await.status, 200);
    app.a.api.get("/v1/me").await.ok(200);
}

async fn page_views_have_their_own_bucket(app: TestApp) {
    for _ in 0..3 {
        let r = get(&app, "/alice/intro-call").await;
        assert_page(&r, 200);
        assert_eq!(
            r.header("ratelimit-policy"),
            None,
            "pages carry no API headers"
        );
    }
    let r = get(&app, "/alice").await;
    assert_page(&r, 429);
    assert!(r.text.contains("Too many requests"));
    assert_eq!(r.header("ratelimit-policy"), Some("\"page_view\";q=3;w=60"));
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    // The API's anonymous bucket is untouched by page views…
    let api = get(&app, "/v1/_ping").await;
    assert_eq!(api.status, 401);
    assert_eq!(api.header("x-ratelimit-remaining"), Some("4"));
    // …assets are not counted, and the next window serves pages again.
    let page_css = pages::assets::css_url();
    assert_eq!(get(&app, page_css).await.status, 200);
    app.clock.advance(jiff::SignedDuration::from_secs(61));
    assert_page(&get(&app, "/alice").await, 200);
}
