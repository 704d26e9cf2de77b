//! Operations endpoints (§7.5): `/healthz`, `/readyz`, `/metrics` and the OpenAPI document,
//! which must describe every `/v1` route this suite exercises.

use serde_json::Value;
use testkit::{TestApp, both_backends};

both_backends!(
    health_and_readiness,
    metrics_count_requests,
    openapi_lists_every_tested_route,
);

async fn health_and_readiness(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let r = app.anon().get(path).await;
        r.assert_status(200);
        r.request_id();
    }
}

async fn metrics_count_requests(app: TestApp) {
    app.a.api.get("/v1/_ping").await.ok(200);
    app.a.api.get("/v1/me").await.ok(200);
    let r = app.anon().get("/metrics").await;
    r.assert_status(200);
    let counters: Vec<&str> = r
        .text
        .lines()
        .filter(|l| l.starts_with("# TYPE") && l.ends_with("counter") && l.contains("request"))
        .collect();
    assert!(!counters.is_empty(), "a request counter: {}", r.describe());
    let name = counters[0].split_whitespace().nth(2).expect("metric name");
    let total: f64 = r
        .text
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(total >= 2.0, "{name} counts requests: {}", r.describe());
    assert!(
        !r.text.contains(&app.a.org_id.to_string()),
        "metrics are labelled by route, never by raw path"
    );
}

/// Replaces every `{param}` with `{}` so parameter names do not matter.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push('{');
            }
            '}' => {
                depth -= 1;
                out.push('}');
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

async fn openapi_lists_every_tested_route(app: TestApp) {
    let r = app.anon().get("/openapi.json").await;
    r.assert_status(200);
    let doc: &Value = &r.body;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        r.describe()
    );
    let paths = doc["paths"].as_object().expect("paths object");
    let have: std::collections::HashMap<String, &Value> =
        paths.iter().map(|(k, v)| (normalize(k), v)).collect();
    let want: &[(&str, &[&str])] = &[
        ("/v1/_ping", &["get"]),
        ("/v1/me", &["get"]),
        ("/v1/event-types", &["get", "post"]),
        ("/v1/event-types/{}", &["get", "patch", "delete"]),
        ("/v1/slots", &["get"]),
        ("/v1/slots/check", &["get"]),
        ("/v1/bookings", &["get", "post"]),
        ("/v1/bookings/{}", &["get", "patch"]),
        ("/v1/bookings/{}/cancel", &["post"]),
        ("/v1/bookings/{}/reschedule", &["post"]),
        ("/v1/schedules", &["get", "post"]),
        ("/v1/schedules/{}", &["get", "patch", "delete"]),
    ];
    for (path, methods) in want {
        let item = have
            .get(*path)
            .unwrap_or_else(|| panic!("OpenAPI lacks {path}; has {:?}", have.keys()));
        for m in *methods {
            assert!(item.get(*m).is_some(), "OpenAPI lacks {m} {path}");
        }
    }
    let yaml = app.anon().get("/openapi.yaml").await;
    yaml.assert_status(200);
    assert!(yaml.text.contains("/v1/bookings"), "{}", yaml.describe());
    // What is served is the document the repository commits (`openapi.yaml`, drift-checked),
    // parameter rules included: the server must not serve a looser document than it enforces.
    assert_eq!(
        yaml.text,
        http_api::openapi::yaml().unwrap(),
        "served /openapi.yaml differs from http_api::openapi::yaml()"
    );
    let key = &doc["paths"]["/v1/bookings"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("POST /v1/bookings documents Idempotency-Key")["schema"];
    assert_eq!(key["pattern"], http_api::openapi::IDEMPOTENCY_KEY_PATTERN);
}
