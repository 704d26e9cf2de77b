//! The §4.1 management API: CRUD, every error code, the per-credential sandbox, secret
//! rotation, the test endpoint and delivery pagination.

use super::*;

both_backends!(
    create_get_list_patch_delete,
    management_error_codes,
    sandbox_matrix,
    rotate_secret_invalidates_the_old_one,
    test_endpoint_delivers_now,
    deliveries_are_paginated_newest_first,
);

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
