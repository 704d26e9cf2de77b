//! Deliveries: both signature schemes checked independently, the retry schedule and
//! auto-pause under the test clock, resets, redirects, event-type payload bytes, the worker.

use super::*;

both_backends!(
    signed_delivery_verifies_under_both_schemes,
    retry_schedule_and_auto_pause,
    success_and_edit_reset_the_failure_count,
    redirects_are_not_followed,
    event_type_payload_is_the_get_detail,
    the_worker_is_woken_by_new_work,
);

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

/// The worker loop (as `slotbook serve` runs it) delivers without a drain call: new work wakes
/// it at once (SQLite commit signal / Postgres NOTIFY) although its poll tick is an hour.
async fn the_worker_is_woken_by_new_work(app: TestApp) {
    let rx = Receiver::start().await;
    create(&app, &rx.url("/w"), &["booking_created"]).await;
    let worker = server::worker::Worker::start(
        app.webhooks.clone(),
        app.store.clone(),
        app.wake.clone(),
        server::worker::WorkerSettings {
            concurrency: 2,
            poll: std::time::Duration::from_secs(3600),
            retention: jiff::SignedDuration::from_hours(24 * 30),
            purge_batch: 100,
            notifications: true,
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
