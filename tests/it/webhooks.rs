//! Webhooks (§4, §7.2): the management API with every error code it lists, the per-credential
//! sandbox, signed deliveries verified by two independent verifiers (a hand-written §4.4 check
//! over `hmac-sha256`, and the `standardwebhooks` crate), the retry schedule and auto-pause
//! under the test clock (drained synchronously), redirects not followed, event-type payloads
//! byte-identical to the GET detail, and the SSRF corpus refused at registration and at
//! delivery (strict policy, `allow_loopback_http = false`).

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, hours, mins};
use testkit::{Receiver, TestApp, both_backends};

both_backends!(
    create_get_list_patch_delete,
    management_error_codes,
    sandbox_matrix,
    signed_delivery_verifies_under_both_schemes,
    rotate_secret_invalidates_the_old_one,
    test_endpoint_delivers_now,
    retry_schedule_and_auto_pause,
    success_and_edit_reset_the_failure_count,
    redirects_are_not_followed,
    event_type_payload_is_the_get_detail,
    deliveries_are_paginated_newest_first,
    the_worker_is_woken_by_new_work,
);

macro_rules! strict {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    testkit::run_strict_webhooks(testkit::Backend::Sqlite, super::$name).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    testkit::run_strict_webhooks(testkit::Backend::Postgres, super::$name).await
                }
            }
        )+
    };
}

strict!(
    ssrf_corpus_is_refused_at_registration,
    a_name_resolving_to_loopback_is_refused_at_delivery,
);

/// The corpus of issue 13 (URL hosts).
const CORPUS: &[&str] = &[
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
];

const WEBHOOK_FIELDS: &[&str] = &[
    "id",
    "url",
    "events",
    "status",
    "description",
    "paused_reason",
    "last_delivery_at",
    "last_delivery_ok",
    "created_at",
    "updated_at",
];

fn tomorrow(app: &TestApp, hhmm: &str) -> jiff::Timestamp {
    at(BERLIN, days_after(BERLIN, app.now(), 1), hhmm)
}

/// The object's keys, sorted (serde_json maps sort; order is checked on text).
fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Asserts that the keys first appear in `text` in this order.
fn assert_key_order(text: &str, order: &[&str]) {
    let pos: Vec<usize> = order
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing in {text}"))
        })
        .collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "key order {order:?} in {text}"
    );
}

async fn create(app: &TestApp, url: &str, events: &[&str]) -> Value {
    app.a
        .api
        .post_json("/v1/webhooks", &json!({"url": url, "events": events}), None)
        .await
        .ok(201)
        .clone()
}

/// The §4.4 check written independently of the server (hmac-sha256 crate): parse by key,
/// recompute over `t.body` keyed by the whole secret string.
fn verify_42min(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_owned()),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut msg = t.into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    let mac = hmac_sha256::HMAC::mac(&msg, secret.as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    hex == v1
}

fn verify_standard(secret: &str, r: &testkit::Received, body: &[u8]) -> bool {
    let mut h = http::HeaderMap::new();
    for (k, v) in &r.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    }
    standardwebhooks::Webhook::new(secret)
        .and_then(|w| w.verify(body, &h))
        .is_ok()
}

async fn create_get_list_patch_delete(app: TestApp) {
    let rx = Receiver::start().await;
    let r = app
        .a
        .api
        .post_json(
            "/v1/webhooks",
            &json!({"url": rx.url("/hook"), "events": ["booking_created", "booking_canceled"], "description": "CRM sync"}),
            None,
        )
        .await;
    let created = r.ok(201).clone();
    let mut want: Vec<&str> = WEBHOOK_FIELDS.to_vec();
    want.push("signing_secret");
    assert_eq!(keys(&created), sorted(&want), "WebhookWithSecret keys");
    assert_key_order(&r.text, &want);
    let secret = created["signing_secret"].as_str().unwrap();
    let raw = base64_decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"));
    assert_eq!(raw.len(), 32, "32 random bytes");
    assert_eq!(created["status"], "active");
    assert_eq!(
        created["events"],
        json!(["booking_created", "booking_canceled"])
    );
    assert_eq!(created["description"], "CRM sync");
    assert_eq!(created["paused_reason"], Value::Null);
    assert_eq!(created["last_delivery_ok"], Value::Null);
    let id = created["id"].as_str().unwrap().to_owned();
    uuid::Uuid::parse_str(&id).unwrap();

    let got_r = app.a.api.get(&format!("/v1/webhooks/{id}")).await;
    let got = got_r.ok(200).clone();
    assert_eq!(
        keys(&got),
        sorted(WEBHOOK_FIELDS),
        "no secret outside create/rotate"
    );
    assert_key_order(&got_r.text, WEBHOOK_FIELDS);
    let list = app.a.api.get("/v1/webhooks").await;
    assert_eq!(list.ok(200).as_array().unwrap().len(), 1);
    assert_eq!(keys(list.meta()), sorted(&["request_id"]), "not paginated");

    let second = create(&app, &rx.url("/hook"), &["booking_created"]).await;
    assert_ne!(
        second["id"], created["id"],
        "create is not idempotent; same URL twice is fine"
    );
    assert_ne!(second["signing_secret"], created["signing_secret"]);

    let patched = app
        .a
        .api
        .patch_json(
            &format!("/v1/webhooks/{id}"),
            &json!({"events": ["event_type_updated"], "description": null, "status": "paused"}),
            None,
            None,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(patched["events"], json!(["event_type_updated"]));
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["status"], "paused");
    assert_eq!(keys(&patched), sorted(WEBHOOK_FIELDS));
    let resumed = app
        .a
        .api
        .patch_json(
            &format!("/v1/webhooks/{id}"),
            &json!({"status": "active", "url": rx.url("/other")}),
            None,
            None,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["url"], rx.url("/other"));

    let d = app.a.api.delete(&format!("/v1/webhooks/{id}")).await;
    d.assert_status(204);
    assert!(d.text.is_empty(), "204 has no body");
    assert!(
        d.header("x-request-id").is_some(),
        "X-Request-Id still sent"
    );
    app.a
        .api
        .delete(&format!("/v1/webhooks/{id}"))
        .await
        .err(404, "not_found");
    app.a
        .api
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .err(404, "not_found");
    assert_eq!(
        app.a
            .api
            .get("/v1/webhooks")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    // Standard alphabet with padding, decoded by hand (no extra dependency).
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = alphabet
            .iter()
            .position(|a| *a == c)
            .expect("base64 character") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

async fn management_error_codes(app: TestApp) {
    let rx = Receiver::start().await;
    let hook = create(&app, &rx.url("/h"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    let paths = [
        ("GET", "/v1/webhooks".to_owned()),
        ("POST", "/v1/webhooks".to_owned()),
        ("GET", format!("/v1/webhooks/{id}")),
        ("PATCH", format!("/v1/webhooks/{id}")),
        ("DELETE", format!("/v1/webhooks/{id}")),
        ("POST", format!("/v1/webhooks/{id}/rotate-secret")),
        ("POST", format!("/v1/webhooks/{id}/test")),
        ("GET", format!("/v1/webhooks/{id}/deliveries")),
    ];
    // 401 on every endpoint without a token; 403 with the wrong scope.
    let read_only = app.mint_token(&app.a, &["webhooks:read"], None).await;
    let none = app.mint_token(&app.a, &["bookings:read"], None).await;
    for (method, path) in &paths {
        let anon = app.anon();
        let body = json!({"url": rx.url("/h"), "events": ["booking_created"]});
        let send = |c: testkit::ApiClient| {
            let (method, path, body) = (*method, path.clone(), body.clone());
            async move {
                match method {
                    "GET" => c.get(&path).await,
                    "DELETE" => c.delete(&path).await,
                    "PATCH" => c.patch_json(&path, &json!({}), None, None).await,
                    _ => c.post_json(&path, &body, None).await,
                }
            }
        };
        send(anon).await.err(401, "invalid_token");
        let scope = if *method == "GET" {
            "webhooks:read"
        } else {
            "webhooks:write"
        };
        let c = if *method == "GET" {
            app.client(&none.token)
        } else {
            app.client(&read_only.token)
        };
        let d = send(c).await.err(403, "insufficient_scope").clone();
        assert_eq!(d["required_scope"], scope, "{method} {path}");
    }
    // 404 for non-UUIDs and unknown ids on every id route.
    for (method, path) in paths.iter().skip(2) {
        for bad in [
            path.replace(id, "not-a-uuid"),
            path.replace(id, &uuid::Uuid::new_v4().to_string()),
        ] {
            let r = match *method {
                "GET" => app.a.api.get(&bad).await,
                "DELETE" => app.a.api.delete(&bad).await,
                "PATCH" => app.a.api.patch_json(&bad, &json!({}), None, None).await,
                _ => app.a.api.post_json(&bad, &json!({}), None).await,
            };
            r.err(404, "not_found");
        }
    }
    // create: dot names → 400; other field errors → 422 naming the field.
    let post = |body: Value| {
        let api = app.a.api.clone();
        async move { api.post_json("/v1/webhooks", &body, None).await }
    };
    let d = post(json!({"url": rx.url("/h"), "events": ["booking.created"]}))
        .await
        .err(400, "validation_error")
        .clone();
    assert!(
        d["fields"]["events"][0]
            .as_str()
            .unwrap()
            .contains("booking_created"),
        "{d}"
    );
    for (body, field) in [
        (json!({"events": ["booking_created"]}), "url"),
        (json!({"url": rx.url("/h")}), "events"),
        (json!({"url": rx.url("/h"), "events": []}), "events"),
        (
            json!({"url": rx.url("/h"), "events": ["booking_exploded"]}),
            "events",
        ),
        (
            json!({"url": format!("{}/{}", rx.url(""), "a".repeat(2000)), "events": ["booking_created"]}),
            "url",
        ),
        (
            json!({"url": rx.url("/h"), "events": ["booking_created"], "description": "d".repeat(256)}),
            "description",
        ),
        (
            json!({"url": "ftp://example.com/x", "events": ["booking_created"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "events": ["booking_created"]}),
            "url",
        ),
        (
            json!({"url": rx.url("/h"), "events": ["booking_created"], "secret": "x"}),
            "secret",
        ),
    ] {
        let d = post(body.clone())
            .await
            .err(422, "validation_error")
            .clone();
        assert!(d["fields"].get(field).is_some(), "{body} → {d}");
    }
    post(json!({"url": rx.url("/h"), "events": "booking_created"}))
        .await
        .err(422, "validation_error");
    // PATCH: invalid input is 400 (the contract lists no 422 for PATCH).
    let path = format!("/v1/webhooks/{id}");
    for (body, field) in [
        (json!({"status": "disabled"}), "status"),
        (json!({"events": []}), "events"),
        (json!({"events": ["booking.canceled"]}), "events"),
        (json!({"url": "ftp://x.example/"}), "url"),
    ] {
        let d = app
            .a
            .api
            .patch_json(&path, &body, None, None)
            .await
            .err(400, "validation_error")
            .clone();
        assert!(d["fields"].get(field).is_some(), "{body} → {d}");
    }
    let got = app.a.api.get(&path).await.ok(200).clone();
    assert_eq!(got["events"], json!(["booking_created"]), "nothing applied");
    // deliveries: bad paging parameters → 400 invalid_query_param.
    app.a
        .api
        .get(&format!("{path}/deliveries?limit=0"))
        .await
        .bad_param("limit");
    app.a
        .api
        .get(&format!("{path}/deliveries?cursor=garbage!"))
        .await
        .bad_param("cursor");
}

async fn sandbox_matrix(app: TestApp) {
    let rx = Receiver::start().await;
    let b_token = app
        .mint_token(&app.a, &["webhooks:read", "webhooks:write"], None)
        .await;
    let pat_b = app.client(&b_token.token);
    let hook = create(&app, &rx.url("/a"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/v1/webhooks/{id}");
    for client in [&pat_b, &app.b.api] {
        assert_eq!(client.get("/v1/webhooks").await.ok(200), &json!([]));
        client.get(&path).await.err(404, "not_found");
        client
            .patch_json(&path, &json!({"description": "mine now"}), None, None)
            .await
            .err(404, "not_found");
        client
            .post_json(&format!("{path}/test"), &json!({}), None)
            .await
            .err(404, "not_found");
        client
            .post_json(&format!("{path}/rotate-secret"), &json!({}), None)
            .await
            .err(404, "not_found");
        client
            .get(&format!("{path}/deliveries"))
            .await
            .err(404, "not_found");
        client.delete(&path).await.err(404, "not_found");
    }
    assert!(
        rx.received().is_empty(),
        "no test event was sent by another credential"
    );
    // PAT B's own subscription is invisible to PAT A; the same URL is fine in both sandboxes.
    let theirs = pat_b
        .post_json(
            "/v1/webhooks",
            &json!({"url": rx.url("/a"), "events": ["booking_created"]}),
            None,
        )
        .await
        .ok(201)
        .clone();
    let mine = app.a.api.get("/v1/webhooks").await.ok(200).clone();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], hook["id"]);
    app.a
        .api
        .get(&format!("/v1/webhooks/{}", theirs["id"].as_str().unwrap()))
        .await
        .err(404, "not_found");
    let got = app.a.api.get(&path).await.ok(200).clone();
    assert!(got["description"].is_null(), "untouched by others");
}

async fn signed_delivery_verifies_under_both_schemes(app: TestApp) {
    let rx = Receiver::start().await;
    let hook = create(&app, &rx.url("/hook"), &["booking_created"]).await;
    let secret = hook["signing_secret"].as_str().unwrap().to_owned();
    let booking = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    let report = app.drain_webhooks().await;
    assert_eq!(report.delivered, 1);
    let got = rx.received();
    assert_eq!(got.len(), 1, "one delivery");
    let r = &got[0];
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-42min-webhook-event"), Some("booking.created"));
    assert_eq!(r.header("x-42min-webhook-attempt"), Some("1"));
    let dlv = r.header("x-42min-webhook-id").unwrap();
    assert!(dlv.starts_with("dlv_"), "{dlv}");
    uuid::Uuid::parse_str(&dlv[4..]).unwrap();
    assert_eq!(r.header("webhook-id"), Some(dlv));
    let sig = r.header("x-42min-webhook-signature").unwrap();
    let t = r.header("webhook-timestamp").unwrap();
    assert!(sig.starts_with(&format!("t={t},v1=")), "{sig}");

    let body = r.body.clone();
    assert!(verify_42min(&secret, sig, &body), "§4.4 signature");
    assert!(
        verify_standard(&secret, r, &body),
        "Standard Webhooks signature"
    );
    // One-byte tampering of body, timestamp or secret fails both.
    let mut tampered = body.clone();
    tampered[20] ^= 0x01;
    assert!(!verify_42min(&secret, sig, &tampered));
    assert!(!verify_standard(&secret, r, &tampered));
    let t2 = (t.parse::<i64>().unwrap() + 1).to_string();
    assert!(!verify_42min(
        &secret,
        &sig.replace(&format!("t={t}"), &format!("t={t2}")),
        &body
    ));
    let mut r2 = r.clone();
    for (k, v) in &mut r2.headers {
        if k == "webhook-timestamp" {
            *v = t2.clone();
        }
    }
    assert!(!verify_standard(&secret, &r2, &body));
    let mut wrong = secret.clone().into_bytes();
    let last = wrong.len() - 2;
    wrong[last] = if wrong[last] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert!(!verify_42min(&wrong, sig, &body));
    assert!(!verify_standard(&wrong, r, &body));

    // The envelope, byte for byte in key order.
    let text = r.text();
    assert!(text.starts_with("{\"id\":\"evt_"), "{text}");
    let v = r.json();
    assert_eq!(
        keys(&v),
        sorted(&["id", "event", "createdAt", "apiVersion", "data"])
    );
    assert_key_order(&text, &["id", "event", "createdAt", "apiVersion", "data"]);
    assert_key_order(
        &text,
        &[
            "booking",
            "eventTypeId",
            "startTime",
            "inviteeEmail",
            "reschedule_generation",
            "organizationId",
            "series_id",
            "series_index",
        ],
    );
    assert_eq!(v["event"], "booking.created");
    assert_eq!(v["apiVersion"], "2026-04-01");
    uuid::Uuid::parse_str(v["id"].as_str().unwrap().strip_prefix("evt_").unwrap()).unwrap();
    let wb = &v["data"]["booking"];
    assert_eq!(wb["id"], booking["uid"]);
    assert_eq!(wb["eventTypeId"], app.a.event_type_id.to_string());
    assert_eq!(wb["organizationId"], app.a.org_id.to_string());
    assert_eq!(wb["inviteeEmail"], "ann@example.com");
    assert_eq!(wb["startTime"], booking["start_at"]);
    assert_eq!(wb["reschedule_generation"], 0);
    for k in ["series_id", "series_index", "rescheduledAt"] {
        assert!(
            wb.get(k).is_some_and(Value::is_null),
            "{k} present as null: {wb}"
        );
    }
    assert!(
        v["createdAt"].as_str().unwrap().ends_with('Z')
            && v["createdAt"].as_str().unwrap().len() == 24,
        "ms UTC"
    );

    // Drained: nothing more; the subscription records the good delivery.
    assert_eq!(app.drain_webhooks().await.attempts(), 0);
    let id = hook["id"].as_str().unwrap();
    let got = app
        .a
        .api
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .ok(200)
        .clone();
    assert_eq!(got["last_delivery_ok"], true);
    assert!(got["last_delivery_at"].is_string());
    let log_r = app
        .a
        .api
        .get(&format!("/v1/webhooks/{id}/deliveries"))
        .await;
    let log = log_r.ok(200).clone();
    assert_eq!(log.as_array().unwrap().len(), 1);
    let d = &log[0];
    let fields = [
        "id",
        "event",
        "attempt",
        "status_code",
        "error",
        "delivered_at",
        "created_at",
    ];
    assert_eq!(keys(d), sorted(&fields));
    assert_key_order(&log_r.text, &fields);
    assert_eq!(d["id"], dlv);
    assert_eq!(d["event"], "booking_created");
    assert_eq!(
        (d["attempt"].clone(), d["status_code"].clone()),
        (json!(1), json!(200))
    );
    assert!(d["delivered_at"].is_string() && d["error"].is_null());

    // A booking change the subscription did not ask for is not delivered.
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{}/cancel", booking["uid"].as_str().unwrap()),
            &json!({}),
            Some(&testkit::key()),
        )
        .await
        .ok(200);
    app.drain_webhooks().await;
    assert_eq!(rx.received().len(), 1, "booking_canceled not subscribed");
}

async fn rotate_secret_invalidates_the_old_one(app: TestApp) {
    let rx = Receiver::start().await;
    let hook = create(&app, &rx.url("/r"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["signing_secret"].as_str().unwrap().to_owned();
    let rotated = app
        .a
        .api
        .post_json(
            &format!("/v1/webhooks/{id}/rotate-secret"),
            &json!({}),
            None,
        )
        .await
        .ok(200)
        .clone();
    let new = rotated["signing_secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    assert_eq!(rotated["id"], hook["id"]);
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "11:00"))
        .await;
    app.drain_webhooks().await;
    let r = &rx.received()[0];
    let sig = r.header("x-42min-webhook-signature").unwrap();
    assert!(verify_42min(&new, sig, &r.body) && verify_standard(&new, r, &r.body));
    assert!(!verify_42min(&old, sig, &r.body) && !verify_standard(&old, r, &r.body));
}

async fn test_endpoint_delivers_now(app: TestApp) {
    let rx = Receiver::start().await;
    let hook = create(&app, &rx.url("/t"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    let secret = hook["signing_secret"].as_str().unwrap();
    let d = app
        .a
        .api
        .post_json(&format!("/v1/webhooks/{id}/test"), &json!({}), None)
        .await
        .ok(200)
        .clone();
    assert_eq!(d["event"], "webhook_test");
    assert_eq!(
        (d["attempt"].clone(), d["status_code"].clone()),
        (json!(1), json!(200))
    );
    assert!(d["id"].as_str().unwrap().starts_with("dlv_"));
    let got = rx.received();
    assert_eq!(got.len(), 1, "delivered during the request");
    assert_eq!(got[0].header("x-42min-webhook-event"), Some("webhook.test"));
    assert_eq!(got[0].header("x-42min-webhook-id"), d["id"].as_str());
    assert!(verify_42min(
        secret,
        got[0].header("x-42min-webhook-signature").unwrap(),
        &got[0].body
    ));
    assert!(verify_standard(secret, &got[0], &got[0].body));
    // A failing test reports the failure and is not retried.
    rx.respond_with(503);
    let d = app
        .a
        .api
        .post_json(&format!("/v1/webhooks/{id}/test"), &json!({}), None)
        .await
        .ok(200)
        .clone();
    assert_eq!(d["status_code"], 503);
    assert!(d["error"].as_str().unwrap().contains("503"));
    assert!(d["delivered_at"].is_null());
    app.clock.advance(hours(24));
    app.drain_webhooks().await;
    assert_eq!(rx.received().len(), 2, "test deliveries are not retried");
}

/// Advances through the whole retry schedule, draining after each step; returns how many
/// attempts each step made.
async fn run_schedule(app: &TestApp) -> Vec<u32> {
    let mut made = vec![app.drain_webhooks().await.attempts()];
    for delay in [mins(1), mins(5), mins(30), hours(2), hours(12)] {
        app.clock.advance(delay);
        made.push(app.drain_webhooks().await.attempts());
    }
    made
}

async fn retry_schedule_and_auto_pause(app: TestApp) {
    let rx = Receiver::start().await;
    rx.respond_with(500);
    let hook = create(&app, &rx.url("/fail"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "09:00"))
        .await;
    // The exact schedule: 0, 1 min, 5 min, 30 min, 2 h, 12 h; nothing a second early.
    assert_eq!(app.drain_webhooks().await.retried, 1);
    for delay in [mins(1), mins(5), mins(30), hours(2), hours(12)] {
        app.clock
            .advance(delay - jiff::SignedDuration::from_secs(1));
        assert_eq!(
            app.drain_webhooks().await.attempts(),
            0,
            "not before {delay:?}"
        );
        app.clock.advance(jiff::SignedDuration::from_secs(1));
        assert_eq!(app.drain_webhooks().await.attempts(), 1, "at {delay:?}");
    }
    let got = rx.received();
    assert_eq!(got.len(), 6, "6 attempts in total");
    let attempts: Vec<&str> = got
        .iter()
        .map(|r| r.header("x-42min-webhook-attempt").unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "3", "4", "5", "6"]);
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|r| r.header("x-42min-webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "the delivery id is stable across retries");
    assert!(
        got.windows(2).all(|w| w[0].body == w[1].body),
        "same bytes every retry"
    );
    app.clock.advance(hours(48));
    assert_eq!(app.drain_webhooks().await.attempts(), 0, "exhausted");
    let log = app
        .a
        .api
        .get(&format!("/v1/webhooks/{id}/deliveries"))
        .await
        .ok(200)
        .clone();
    assert_eq!(log[0]["attempt"], 6);
    assert_eq!(log[0]["status_code"], 500);
    assert_eq!(log[0]["error"], "HTTP 500");
    assert!(log[0]["delivered_at"].is_null());

    // Four more exhausted deliveries (five in a row) pause the subscription.
    for hhmm in ["10:00", "11:00", "12:00", "13:00"] {
        app.book(&app.a, app.a.event_type_id, tomorrow(&app, hhmm))
            .await;
    }
    let got = app
        .a
        .api
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .ok(200)
        .clone();
    assert_eq!(got["status"], "active");
    assert_eq!(run_schedule(&app).await, vec![4; 6]);
    let got = app
        .a
        .api
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .ok(200)
        .clone();
    assert_eq!(got["status"], "paused", "{got}");
    assert!(
        got["paused_reason"]
            .as_str()
            .unwrap()
            .contains("5 consecutive")
    );
    assert_eq!(got["last_delivery_ok"], false);
    // Paused: new events are not delivered.
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "14:00"))
        .await;
    assert_eq!(app.drain_webhooks().await.attempts(), 0);
    // Re-enabling clears the reason and delivers again.
    rx.respond_with(200);
    let resumed = app
        .a
        .api
        .patch_json(
            &format!("/v1/webhooks/{id}"),
            &json!({"status": "active"}),
            None,
            None,
        )
        .await
        .ok(200)
        .clone();
    assert!(resumed["paused_reason"].is_null());
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "15:00"))
        .await;
    assert_eq!(app.drain_webhooks().await.delivered, 1);
}

async fn success_and_edit_reset_the_failure_count(app: TestApp) {
    let rx = Receiver::start().await;
    rx.respond_with(500);
    let hook = create(&app, &rx.url("/flaky"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let status = |app: &TestApp| {
        let (api, id) = (app.a.api.clone(), id.clone());
        async move { api.get(&format!("/v1/webhooks/{id}")).await.ok(200)["status"].clone() }
    };
    let mut slot = 0;
    let mut book_n = async |app: &TestApp, n: usize| {
        for _ in 0..n {
            let hhmm = format!("{:02}:{:02}", 8 + slot / 2, (slot % 2) * 30);
            slot += 1;
            app.book(&app.a, app.a.event_type_id, tomorrow(app, &hhmm))
                .await;
        }
    };
    // 4 exhausted, then a success resets, then 4 more: still active.
    book_n(&app, 4).await;
    run_schedule(&app).await;
    rx.respond_with(200);
    book_n(&app, 1).await;
    assert_eq!(app.drain_webhooks().await.delivered, 1);
    rx.respond_with(500);
    book_n(&app, 4).await;
    run_schedule(&app).await;
    assert_eq!(status(&app).await, "active", "a success reset the count");
    // An edit resets it too: 4 more after the edit keep it active, a fifth pauses it.
    app.a
        .api
        .patch_json(
            &format!("/v1/webhooks/{id}"),
            &json!({"description": "edited"}),
            None,
            None,
        )
        .await
        .ok(200);
    book_n(&app, 4).await;
    run_schedule(&app).await;
    assert_eq!(status(&app).await, "active", "an edit reset the count");
    book_n(&app, 1).await;
    run_schedule(&app).await;
    assert_eq!(status(&app).await, "paused");
}

async fn redirects_are_not_followed(app: TestApp) {
    let target = Receiver::start().await;
    let rx = Receiver::start().await;
    rx.redirect_to(&target.url("/stolen"));
    let hook = create(&app, &rx.url("/r"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    let d = app
        .a
        .api
        .post_json(&format!("/v1/webhooks/{id}/test"), &json!({}), None)
        .await
        .ok(200)
        .clone();
    assert_eq!(d["status_code"], 302);
    assert!(d["error"].as_str().unwrap().contains("redirect"), "{d}");
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    let report = app.drain_webhooks().await;
    assert_eq!(
        (report.delivered, report.retried),
        (0, 1),
        "a 302 is a failure"
    );
    assert_eq!(rx.received().len(), 2);
    assert!(
        target.received().is_empty(),
        "the redirect was not followed"
    );
}

async fn event_type_payload_is_the_get_detail(app: TestApp) {
    let rx = Receiver::start().await;
    create(
        &app,
        &rx.url("/et"),
        &["event_type_updated", "event_type_deleted"],
    )
    .await;
    let path = format!("/v1/event-types/{}", app.a.event_type_id);
    app.a
        .api
        .patch_json(&path, &json!({"title": "Renamed"}), Some("\"1\""), None)
        .await
        .ok(200);
    let get = app.a.api.get(&path).await;
    get.assert_status(200);
    // The GET envelope is {"data":<detail>,"meta":…}: cut the detail's exact bytes.
    let detail_text = get
        .text
        .strip_prefix("{\"data\":")
        .and_then(|s| s.rsplit_once(",\"meta\":"))
        .map(|(d, _)| d.to_owned())
        .expect("GET body starts with data");
    app.drain_webhooks().await;
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("x-42min-webhook-event"),
        Some("event_type.updated")
    );
    let text = got[0].text();
    assert!(
        text.ends_with(&format!(",\"data\":{{\"event_type\":{detail_text}}}}}")),
        "byte-identical detail:\n{text}\nvs\n{detail_text}"
    );
    app.a.api.delete(&path).await.assert_status(204);
    app.drain_webhooks().await;
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[1].header("x-42min-webhook-event"),
        Some("event_type.deleted")
    );
    assert!(
        got[1]
            .text()
            .contains(&format!("\"event_type\":{detail_text}")),
        "as it was"
    );
}

async fn deliveries_are_paginated_newest_first(app: TestApp) {
    let rx = Receiver::start().await;
    let hook = create(&app, &rx.url("/p"), &["booking_created"]).await;
    let id = hook["id"].as_str().unwrap();
    for i in 0..5 {
        app.a
            .api
            .post_json(&format!("/v1/webhooks/{id}/test"), &json!({}), None)
            .await
            .ok(200);
        if i % 2 == 0 {
            app.clock.advance(mins(1));
        }
    }
    let all: Vec<String> = rx
        .received()
        .iter()
        .rev()
        .map(|r| r.header("x-42min-webhook-id").unwrap().to_owned())
        .collect();
    let mut seen = Vec::new();
    let mut url = format!("/v1/webhooks/{id}/deliveries?limit=2");
    loop {
        let r = app.a.api.get(&url).await;
        let page = r.ok(200).clone();
        seen.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned()),
        );
        if r.meta()["has_more"] == false {
            assert!(r.meta()["next_cursor"].is_null());
            break;
        }
        assert!(r.link_next().is_some(), "Link rel=next");
        url = format!(
            "/v1/webhooks/{id}/deliveries?limit=2&cursor={}",
            r.meta()["next_cursor"].as_str().unwrap()
        );
    }
    assert_eq!(seen, all, "newest first, each once");
}

async fn ssrf_corpus_is_refused_at_registration(app: TestApp) {
    for host in CORPUS {
        let url = format!("https://{host}/hook");
        let d = app
            .a
            .api
            .post_json(
                "/v1/webhooks",
                &json!({"url": url, "events": ["booking_created"]}),
                None,
            )
            .await
            .err(422, "validation_error")
            .clone();
        assert!(d["fields"]["url"].is_array(), "{url}: {d}");
    }
    let rebinding = format!("https://{}/hook", testkit::LOOPBACK_NAME);
    for url in [
        "http://93.184.215.14/hook",
        "https://localhost/hook",
        "http://127.0.0.1:9/hook",
        &rebinding,
    ] {
        app.a
            .api
            .post_json(
                "/v1/webhooks",
                &json!({"url": url, "events": ["booking_created"]}),
                None,
            )
            .await
            .err(422, "validation_error");
    }
    // A public address is accepted.
    let ok = create(&app, "https://93.184.215.14/hook", &["booking_created"]).await;
    // And PATCH refuses the corpus too.
    let id = ok["id"].as_str().unwrap();
    for host in CORPUS {
        app.a
            .api
            .patch_json(
                &format!("/v1/webhooks/{id}"),
                &json!({"url": format!("https://{host}/x")}),
                None,
                None,
            )
            .await
            .err(400, "validation_error");
    }
    assert_eq!(
        app.a
            .api
            .get("/v1/webhooks")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A subscription whose name resolves to loopback at delivery time (as after DNS rebinding;
/// the row is written through the store, past registration) is refused when connecting, and
/// the loopback receiver sees nothing.
async fn a_name_resolving_to_loopback_is_refused_at_delivery(app: TestApp) {
    use domain::webhook::*;
    let rx = Receiver::start().await;
    let port = rx.base_url.rsplit(':').next().unwrap().to_owned();
    let secret = app.webhooks.secrets.generate().unwrap();
    let now = app.now();
    let hook = Webhook {
        id: WebhookId(uuid::Uuid::now_v7()),
        organization_id: domain::OrganizationId(app.a.org_id),
        owner: "pat:rebound".into(),
        url: format!("https://{}:{port}/hook", testkit::LOOPBACK_NAME),
        events: vec![WebhookEvent::BookingCreated],
        description: None,
        status: WebhookStatus::Active,
        paused_reason: None,
        consecutive_failures: 0,
        sealed_secret: app.webhooks.secrets.seal(&secret).unwrap(),
        last_delivery_at: None,
        last_delivery_ok: None,
        created_at: now,
        updated_at: now,
    };
    app.store.create_webhook(&hook).await.unwrap();
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    let report = app.drain_webhooks().await;
    assert_eq!((report.delivered, report.retried), (0, 1));
    assert!(rx.received().is_empty(), "never connected to loopback");
    let page = app
        .store
        .list_deliveries(hook.organization_id, hook.id, &Default::default())
        .await
        .unwrap();
    let err = page.items[0].error.clone().unwrap();
    assert!(err.contains("not public"), "{err}");
    assert_eq!(page.items[0].status_code, None);
}

/// The worker loop (as `slotbook serve` runs it) delivers without a drain call: new work wakes
/// it at once (SQLite commit signal / Postgres NOTIFY) although its poll tick is an hour.
async fn the_worker_is_woken_by_new_work(app: TestApp) {
    let rx = Receiver::start().await;
    create(&app, &rx.url("/w"), &["booking_created"]).await;
    let worker = server::worker::Worker::start(
        app.webhooks.clone(),
        app.wake.clone(),
        server::worker::WorkerSettings {
            concurrency: 2,
            poll: std::time::Duration::from_secs(3600),
            retention: jiff::SignedDuration::from_hours(24 * 30),
            purge_batch: 100,
        },
    );
    let booking = app
        .book(&app.a, app.a.event_type_id, tomorrow(&app, "10:00"))
        .await;
    let got = rx.wait_for(1, std::time::Duration::from_secs(20)).await;
    assert_eq!(got[0].json()["data"]["booking"]["id"], booking["uid"]);
    app.book(&app.a, app.a.event_type_id, tomorrow(&app, "11:00"))
        .await;
    let got = rx.wait_for(2, std::time::Duration::from_secs(20)).await;
    assert_eq!(got.len(), 2, "each event once");
    worker.stop(std::time::Duration::from_secs(5)).await;
}
