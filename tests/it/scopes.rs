//! The route × scope matrix (§2.3, §7.1): for every route, a token holding every scope except
//! the required one gets `403 insufficient_scope` naming it and changes nothing; a token holding
//! only the required scope gets through. `oauth_scopes.rs` runs the same matrix with OAuth
//! access tokens.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{ALL_SCOPES, ApiClient, Resp, TestApp, both_backends, key};

both_backends!(
    every_route_refuses_a_token_without_its_scope,
    the_required_scope_alone_suffices,
);

/// One route and how to call it.
struct Route {
    method: Method,
    path: String,
    scope: &'static str,
    body: Option<Value>,
    if_match: Option<&'static str>,
    idempotent: bool,
}

impl Route {
    fn new(method: Method, path: String, scope: &'static str) -> Self {
        Self {
            method,
            path,
            scope,
            body: None,
            if_match: None,
            idempotent: false,
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn if_match(mut self, v: &'static str) -> Self {
        self.if_match = Some(v);
        self
    }

    fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    async fn call(&self, api: &ApiClient) -> Resp {
        let k = key();
        let mut headers = Vec::new();
        if self.body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        if let Some(m) = self.if_match {
            headers.push(("if-match", m));
        }
        if self.idempotent {
            headers.push(("idempotency-key", k.as_str()));
        }
        api.request(
            self.method.clone(),
            &self.path,
            &headers,
            self.body.as_ref().map(|b| b.to_string().into_bytes()),
        )
        .await
    }
}

/// Every v1 route that requires a scope, aimed at real fixtures of org A.
fn routes(app: &TestApp, f: &Fixtures) -> Vec<Route> {
    let (booking, other_booking, event_type) = (&f.booking, &f.other_booking, &f.event_type);
    let day = days_after(BERLIN, app.now(), 1);
    let start = wire(at(BERLIN, day, "10:00"));
    let end = wire(at(BERLIN, days_after(BERLIN, app.now(), 2), "00:00"));
    let et = app.a.event_type_id;
    let schedule = &f.schedule;
    let new_schedule = json!({
        "name": "Mornings",
        "timezone": "Europe/Berlin",
        "rules": [{"days": ["mon", "tue"], "start": "09:00", "end": "12:00"}],
        "overrides": [],
    });
    vec![
        Route::new(Method::GET, "/v1/me".into(), "user:read"),
        Route::new(Method::GET, "/v1/event-types".into(), "event_types:read"),
        Route::new(
            Method::GET,
            format!("/v1/event-types/{et}"),
            "event_types:read",
        ),
        Route::new(Method::POST, "/v1/event-types".into(), "event_types:create").body(json!({
            "slug": "scoped-call",
            "title": "Scoped",
            "duration_minutes": 30,
            "hosts": [{"user_id": app.a.owner.user_id}],
        })),
        Route::new(
            Method::PATCH,
            format!("/v1/event-types/{event_type}"),
            "event_types:update",
        )
        .body(json!({"title": "Patched"}))
        .if_match("\"1\""),
        Route::new(
            Method::DELETE,
            format!("/v1/event-types/{event_type}"),
            "event_types:delete",
        ),
        Route::new(
            Method::GET,
            format!("/v1/slots?event_type_id={et}&start={start}&end={end}"),
            "slots:read",
        ),
        Route::new(
            Method::GET,
            format!("/v1/slots/check?event_type_id={et}&start={start}"),
            "slots:read",
        ),
        Route::new(Method::GET, "/v1/bookings".into(), "bookings:read"),
        Route::new(
            Method::GET,
            format!("/v1/bookings/{booking}"),
            "bookings:read",
        ),
        Route::new(Method::POST, "/v1/bookings".into(), "bookings:create")
            .body(json!({
                "event_type_id": et,
                "start": wire(at(BERLIN, day, "16:00")),
                "attendee": {"email": "scoped@example.com"},
            }))
            .idempotent(),
        Route::new(
            Method::PATCH,
            format!("/v1/bookings/{booking}"),
            "bookings:update",
        )
        .body(json!({"metadata": {"scoped": "yes"}}))
        .if_match("\"1\"")
        .idempotent(),
        Route::new(
            Method::POST,
            format!("/v1/bookings/{booking}/cancel"),
            "bookings:cancel",
        )
        .body(json!({}))
        .idempotent(),
        Route::new(
            Method::POST,
            format!("/v1/bookings/{other_booking}/reschedule"),
            "bookings:reschedule",
        )
        .body(json!({"start": wire(at(BERLIN, day, "18:00"))}))
        .idempotent(),
        Route::new(Method::GET, "/v1/schedules".into(), "availability:read"),
        Route::new(
            Method::GET,
            format!("/v1/schedules/{schedule}"),
            "availability:read",
        ),
        Route::new(Method::POST, "/v1/schedules".into(), "availability:write").body(new_schedule),
        Route::new(
            Method::PATCH,
            format!("/v1/schedules/{schedule}"),
            "availability:write",
        )
        .body(json!({"name": "Renamed"}))
        .if_match("\"1\""),
        Route::new(
            Method::DELETE,
            format!("/v1/schedules/{schedule}"),
            "availability:write",
        ),
    ]
}

/// What the routes act on: two bookings, a spare event type and a spare schedule.
struct Fixtures {
    booking: String,
    other_booking: String,
    event_type: String,
    schedule: String,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let day = days_after(BERLIN, app.now(), 1);
    let b1 = app
        .book(&app.a, app.a.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let b2 = app
        .book(&app.a, app.a.event_type_id, at(BERLIN, day, "11:00"))
        .await;
    let et = app
        .create_event_type(&app.a, testkit::EventTypeSpec::individual("doomed"))
        .await;
    let schedule = app
        .create_schedule(&app.a, app.a.owner.user_id, "Spare", "sat 10:00-12:00")
        .await;
    Fixtures {
        booking: b1["uid"].as_str().expect("uid").to_owned(),
        other_booking: b2["uid"].as_str().expect("uid").to_owned(),
        event_type: et.to_string(),
        schedule: schedule.to_string(),
    }
}

/// A JSON snapshot of everything the routes could change.
async fn snapshot(app: &TestApp) -> Value {
    let api = &app.a.api;
    let mut bookings = api.get("/v1/bookings?limit=100").await.ok(200).clone();
    let mut event_types = api.get("/v1/event-types?limit=100").await.ok(200).clone();
    let schedules = api.get("/v1/schedules").await;
    let schedules = if schedules.status == 200 {
        schedules.data().clone()
    } else {
        json!(schedules.status)
    };
    for v in [&mut bookings, &mut event_types] {
        if let Some(a) = v.as_array_mut() {
            a.sort_by_key(|x| x["uid"].as_str().or(x["id"].as_str()).map(str::to_owned));
        }
    }
    json!({"bookings": bookings, "event_types": event_types, "schedules": schedules})
}

/// Which kind of token the matrix runs with (`oauth_scopes.rs` runs it with OAuth tokens).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Pat,
    OAuth,
}

/// Calls `route` with a token of `kind` for org A's owner holding exactly `scopes` (a PAT is
/// revoked afterwards: at most 42 may be active).
async fn with_token(app: &TestApp, kind: Kind, scopes: &[&str], route: &Route) -> Resp {
    match kind {
        Kind::Pat => {
            let t = app.mint_token(&app.a, scopes, None).await;
            let r = route.call(&app.client(&t.token)).await;
            app.revoke_token(&app.a, &t).await;
            r
        }
        Kind::OAuth => {
            let t = app.oauth_tokens(&app.a, app.a.owner.user_id, scopes).await;
            route.call(&app.client(&t.access)).await
        }
    }
}

/// Every route refuses a `kind` token holding every scope but its own, and changes nothing.
pub(crate) async fn refuses_without_its_scope(app: &TestApp, kind: Kind) {
    let f = fixtures(app).await;
    let before = snapshot(app).await;
    for route in routes(app, &f) {
        let scopes: Vec<&str> = ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != route.scope)
            .collect();
        let r = with_token(app, kind, &scopes, &route).await;
        let d = r.err(403, "insufficient_scope");
        assert_eq!(
            d["required_scope"],
            route.scope,
            "{kind:?}: {}",
            r.describe()
        );
        assert_eq!(
            r.body["error"]["message"],
            format!("This action requires the '{}' scope", route.scope),
            "{}",
            r.describe()
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some(
                format!(
                    "Bearer error=\"insufficient_scope\" scope=\"{}\"",
                    route.scope
                )
                .as_str()
            ),
            "{}",
            r.describe()
        );
        r.rate_limit_headers();
    }
    assert_eq!(
        snapshot(app).await,
        before,
        "a refused request changed something"
    );
}

/// Every route accepts a `kind` token holding only its scope.
pub(crate) async fn the_required_scope_suffices(app: &TestApp, kind: Kind) {
    let f = fixtures(app).await;
    for route in routes(app, &f) {
        let r = with_token(app, kind, &[route.scope], &route).await;
        assert!(
            (200..300).contains(&r.status),
            "{kind:?} with scope {} alone: {}",
            route.scope,
            r.describe()
        );
        r.request_id();
    }
}

async fn every_route_refuses_a_token_without_its_scope(app: TestApp) {
    refuses_without_its_scope(&app, Kind::Pat).await;
}

async fn the_required_scope_alone_suffices(app: TestApp) {
    the_required_scope_suffices(&app, Kind::Pat).await;
    // Alias scopes are expanded at grant time.
    let t = app.mint_token(&app.a, &["bookings:write"], None).await;
    let day = days_after(BERLIN, app.now(), 2);
    let r = app
        .client(&t.token)
        .post_json(
            "/v1/bookings",
            &json!({
                "event_type_id": app.a.event_type_id,
                "start": wire(at(BERLIN, day, "09:00")),
                "attendee": {"email": "alias@example.com"},
            }),
            Some(&key()),
        )
        .await;
    r.ok(201);
}
