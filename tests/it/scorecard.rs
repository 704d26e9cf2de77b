//! The fast rows of the reliability scorecard (`just reliability --fast`) as ordinary tests on
//! both stores: the hostile-input corpus ([`loadtest::hostile`], sent byte-exact: invented
//! methods, invalid UTF-8, 10 KB headers, forged cursors, absurd dates …) never gets a 5xx or
//! no answer, and 50 simultaneous creates of one slot have exactly one winner per round
//! ([`loadtest::race`]); schemathesis, with every check and few examples, finds no gap between
//! the served OpenAPI document and what the server answers ([`loadtest::schemathesis`]).

use jiff::SignedDuration;
use testkit::time::{BERLIN, at, days_after};
use testkit::{ApiConfig, TestApp, both_backends};

/// Rate limits out of the way: the corpus and the races measure input handling, not 429s.
fn unlimited() -> ApiConfig {
    ApiConfig {
        authenticated_per_minute: 1_000_000,
        anonymous_per_minute: 1_000_000,
        ..ApiConfig::default()
    }
}

both_backends!(
    config = unlimited();
    the_hostile_corpus_never_gets_a_5xx,
    fifty_creates_of_one_slot_have_one_winner,
    schemathesis_finds_no_gap_between_document_and_server,
);

fn addr(app: &TestApp) -> std::net::SocketAddr {
    app.base_url
        .trim_start_matches("http://")
        .parse()
        .expect("loopback address")
}

async fn the_hostile_corpus_never_gets_a_5xx(app: TestApp) {
    let b = app
        .book(
            &app.a,
            app.a.event_type_id,
            at(BERLIN, days_after(BERLIN, app.now(), 1), "10:00"),
        )
        .await;
    let target = loadtest::hostile::Target {
        addr: addr(&app),
        token: app.a.token.token.clone(),
        event_type: app.a.event_type_id.to_string(),
        booking: b["uid"].as_str().expect("uid").to_owned(),
    };
    let out = loadtest::hostile::run(&target, 8).await;
    assert!(out.len() > 150, "the corpus has {} cases", out.len());
    let bad: Vec<String> = out
        .iter()
        .filter(|o| o.is_failure())
        .map(|o| format!("{}: {:?}", o.label, o.answer.as_ref().map(|a| a.status)))
        .collect();
    assert!(bad.is_empty(), "answered ≥ 500 or not at all: {bad:#?}");
    // The server still serves.
    app.a.api.get("/v1/bookings").await.ok(200);
}

async fn fifty_creates_of_one_slot_have_one_winner(app: TestApp) {
    let arena = loadtest::race::Arena {
        servers: vec![addr(&app)],
        token: app.a.token.token.clone(),
    };
    let first = at(BERLIN, days_after(BERLIN, app.now(), 2), "09:00");
    let starts: Vec<_> = (0..3)
        .map(|i| first + SignedDuration::from_mins(30 * i))
        .collect();
    for (i, start) in starts.iter().enumerate() {
        let t =
            loadtest::race::burst(&arena, &app.a.event_type_id.to_string(), &[*start], 50).await;
        assert_eq!(
            (t[0].won, t[0].refused, t[0].other),
            (1, 49, 0),
            "round {i}: {:?}",
            t[0]
        );
    }
    let listed = loadtest::race::bookings(&arena, &app.a.event_type_id.to_string())
        .await
        .expect("list");
    assert_eq!(listed.len(), 3);
    assert_eq!(loadtest::race::overlaps(&listed).expect("instants"), 0);
}

/// schemathesis (all checks, seed 42, 5 examples per operation; `just reliability` runs 25)
/// against the served `/openapi.json`: every answer is documented — status, content type,
/// headers, body schema — and nothing is a 5xx. Needs python3 with schemathesis (`.ci/run`
/// installs it); fails, never skips, without it.
async fn schemathesis_finds_no_gap_between_document_and_server(app: TestApp) {
    let out = loadtest::schemathesis::run(
        addr(&app),
        &app.a.token.token,
        5,
        std::time::Duration::from_secs(300),
    )
    .await;
    let report = std::fs::read_to_string(&out.report).unwrap_or_default();
    assert!(out.passed, "schemathesis: {}\n{report}", out.summary);
}
