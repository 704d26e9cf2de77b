//! A schedule change that changes an event type's zone (its first host's schedule zone) emits
//! `event_type.updated` for each such event type, with the GET detail's bytes; a change that
//! keeps the zone, and event types that use the schedule for a later host only, emit nothing.

use super::*;

both_backends!(zone_change_emits_event_type_updated);

/// The GET detail's exact bytes: the envelope is `{"data":<detail>,"meta":…}`.
async fn detail_text(app: &TestApp, id: uuid::Uuid) -> String {
    let get = app.a.api.get(&format!("/v1/event-types/{id}")).await;
    get.assert_status(200);
    get.text
        .strip_prefix("{\"data\":")
        .and_then(|s| s.rsplit_once(",\"meta\":"))
        .map(|(d, _)| d.to_owned())
        .expect("GET body starts with data")
}

async fn zone_change_emits_event_type_updated(app: TestApp) {
    let rx = Receiver::start().await;
    create(&app, &rx.url("/zone"), &["event_type_updated"]).await;
    let owner = app.a.owner.clone();
    let zoe = app.create_host(&app.a, "zoe").await;
    // Zoned by the owner's all-day schedule: the fixture event type and a round robin whose
    // first host is the owner; not zoned by it: a round robin whose first host is Zoe.
    let led = app
        .create_event_type(
            &app.a,
            testkit::EventTypeSpec::collective("owner-first", &[&owner, &zoe]),
        )
        .await;
    let trailing = app
        .create_event_type(
            &app.a,
            testkit::EventTypeSpec::collective("zoe-first", &[&zoe, &owner]),
        )
        .await;
    let path = format!("/v1/schedules/{}", owner.schedule_all_day);

    // Same zone (a rename): nothing.
    app.a
        .api
        .patch_json(&path, &json!({"name": "Renamed"}), Some("\"1\""), None)
        .await
        .ok(200);
    app.a
        .api
        .patch_json(&path, &json!({"timezone": BERLIN}), Some("\"2\""), None)
        .await
        .ok(200);
    assert_eq!(app.drain_webhooks().await.attempts(), 0, "the zone stayed");

    let changed = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"timezone": "America/New_York"}),
            Some("\"3\""),
            None,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(changed["timezone"], "America/New_York");
    let report = app.drain_webhooks().await;
    assert_eq!(report.delivered, 2, "one per zoned event type");
    let got = rx.received();
    assert_eq!(got.len(), 2);
    let mut by_id = std::collections::BTreeMap::new();
    for r in &got {
        assert_eq!(
            r.header("x-42min-webhook-event"),
            Some("event_type.updated")
        );
        let v = r.json();
        assert_eq!(v["event"], "event_type.updated");
        let et = &v["data"]["event_type"];
        assert_eq!(et["timezone"], "America/New_York", "{et}");
        by_id.insert(et["id"].as_str().unwrap().to_owned(), r.text());
    }
    let want: std::collections::BTreeSet<String> = [app.a.event_type_id, led]
        .iter()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(
        by_id
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        want,
        "not {trailing} (the schedule is its second host's)"
    );
    for id in [app.a.event_type_id, led] {
        let detail = detail_text(&app, id).await;
        assert!(
            detail.contains("\"timezone\":\"America/New_York\""),
            "{detail}"
        );
        let text = &by_id[&id.to_string()];
        assert!(
            text.ends_with(&format!(",\"data\":{{\"event_type\":{detail}}}}}")),
            "byte-identical detail:\n{text}\nvs\n{detail}"
        );
    }
    // Zoe's event type kept its zone and emitted nothing.
    assert!(
        detail_text(&app, trailing)
            .await
            .contains(&format!("\"timezone\":\"{BERLIN}\""))
    );

    // A refused change (stale version) emits nothing either.
    app.a
        .api
        .patch_json(
            &path,
            &json!({"timezone": "Asia/Tokyo"}),
            Some("\"3\""),
            None,
        )
        .await
        .err(409, "version_conflict");
    assert_eq!(app.drain_webhooks().await.attempts(), 0);
}
