//! Cross-cutting conventions on every route (§2.4, §2.5): `HEAD` answers every `GET` with the
//! same status and headers and no body; every `/v1` response — success, client error, HEAD —
//! carries `X-Request-Id` and the rate-limit headers.

use reqwest::Method;
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends};

both_backends!(head_mirrors_get_everywhere);

async fn head_mirrors_get_everywhere(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 1);
    let b = app
        .book(&app.a, app.a.event_type_id, at(BERLIN, day, "10:00"))
        .await;
    let uid = b["uid"].as_str().expect("uid");
    let et = app.a.event_type_id;
    let start = wire(at(BERLIN, day, "00:00"));
    let end = wire(at(BERLIN, days_after(BERLIN, app.now(), 2), "00:00"));
    let paths = [
        "/v1/_ping".to_owned(),
        "/v1/me".to_owned(),
        "/v1/event-types".to_owned(),
        format!("/v1/event-types/{et}"),
        format!("/v1/event-types/{}", app.a.event_type_path_slug()),
        format!("/v1/slots?event_type_id={et}&start={start}&end={end}"),
        format!(
            "/v1/slots/check?event_type_id={et}&start={}",
            wire(at(BERLIN, day, "11:00"))
        ),
        "/v1/bookings".to_owned(),
        format!("/v1/bookings/{uid}"),
        "/v1/schedules".to_owned(),
        format!("/v1/schedules/{}", app.a.owner.schedule_all_day),
        format!("/v1/bookings/{}", uuid::Uuid::new_v4()),
        "/v1/bookings?limit=0".to_owned(),
    ];
    for path in paths {
        let get = app.a.api.get(&path).await;
        let head = app.a.api.request(Method::HEAD, &path, &[], None).await;
        assert_eq!(head.status, get.status, "HEAD {path} vs {}", get.describe());
        assert!(head.text.is_empty(), "HEAD {path} sent a body");
        assert_ne!(
            head.request_id(),
            get.request_id(),
            "request ids are per request"
        );
        get.rate_limit_headers();
        head.rate_limit_headers();
        assert_eq!(head.header("etag"), get.header("etag"), "HEAD {path} ETag");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path} content-type"
        );
    }
}
