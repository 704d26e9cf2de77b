//! Availability schedules at `/v1/schedules` (§7.1): list, get, create, update, delete, their
//! validation, and their effect on `/v1/slots` (date overrides, an override with no intervals).

use serde_json::{Value, json};
use testkit::time::{BERLIN, at, days_after, wire};
use testkit::{TestApp, both_backends};

both_backends!(
    list_and_get_schedules,
    create_update_delete_schedule,
    schedule_validation,
    overrides_change_the_slots,
    schedule_in_use_cannot_be_deleted,
    schedule_reports_every_failing_field_at_once,
);

const SCHEDULE_FIELDS: &[&str] = &["id", "user_id", "name", "timezone", "rules", "overrides"];

async fn list_and_get_schedules(app: TestApp) {
    let r = app.a.api.get("/v1/schedules").await;
    let list = r.ok(200).as_array().expect("array").clone();
    assert_eq!(list.len(), 2);
    let all_day = list
        .iter()
        .find(|s| s["id"] == app.a.owner.schedule_all_day.to_string())
        .expect("all-day schedule listed");
    for f in SCHEDULE_FIELDS {
        assert!(all_day.get(*f).is_some(), "schedule lacks {f}: {all_day}");
    }
    assert_eq!(all_day["user_id"], app.a.owner.user_id.to_string());
    assert_eq!(all_day["timezone"], "Europe/Berlin");
    assert_eq!(
        all_day["rules"],
        json!([{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}])
    );
    assert_eq!(all_day["overrides"], json!([]));
    let r = app
        .a
        .api
        .get(&format!("/v1/schedules/{}", app.a.owner.schedule_workdays))
        .await;
    let d = r.ok(200);
    assert_eq!(d["name"], "Workdays");
    assert_eq!(
        d["rules"],
        json!([{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}])
    );
    app.a
        .api
        .get(&format!("/v1/schedules/{}", uuid::Uuid::new_v4()))
        .await
        .err(404, "not_found");
}

async fn create_update_delete_schedule(app: TestApp) {
    let body = json!({
        "name": "Mornings",
        "timezone": "America/New_York",
        "rules": [{"days": ["mon", "wed"], "start": "08:00", "end": "12:00"}],
        "overrides": [{"date": "2031-12-24", "intervals": []}],
    });
    let r = app.a.api.post_json("/v1/schedules", &body, None).await;
    let d = r.ok(201).clone();
    assert_eq!(d["name"], "Mornings");
    assert_eq!(
        d["user_id"],
        app.a.owner.user_id.to_string(),
        "defaults to the caller"
    );
    assert_eq!(d["timezone"], "America/New_York");
    assert_eq!(
        d["overrides"],
        json!([{"date": "2031-12-24", "intervals": []}])
    );
    let id = d["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/schedules/{id}");
    assert_eq!(app.a.api.get(&path).await.ok(200)["rules"], body["rules"]);

    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"name": "Early mornings", "rules": [{"days": ["fri"], "start": "06:00", "end": "09:00"}]}),
            Some("\"1\""),
            None,
        )
        .await;
    let d = r.ok(200);
    assert_eq!(d["name"], "Early mornings");
    assert_eq!(
        d["rules"],
        json!([{"days": ["fri"], "start": "06:00", "end": "09:00"}])
    );
    assert_eq!(d["timezone"], "America/New_York", "untouched fields stay");

    let del = app.a.api.delete(&path).await;
    del.assert_status(204);
    del.request_id();
    app.a.api.get(&path).await.err(404, "not_found");
    app.a.api.delete(&path).await.err(404, "not_found");
}

async fn schedule_validation(app: TestApp) {
    let ok_rules = json!([{"days": ["mon"], "start": "09:00", "end": "17:00"}]);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"timezone": "UTC", "rules": ok_rules}), "name"),
        (json!({"name": "X", "rules": ok_rules}), "timezone"),
        (
            json!({"name": "X", "timezone": "Mars/Olympus", "rules": ok_rules}),
            "timezone",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": [{"days": ["funday"], "start": "09:00", "end": "17:00"}]}),
            "rules[0].days",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": [{"days": ["mon"], "start": "17:00", "end": "09:00"}]}),
            "rules[0]",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": [{"days": ["mon"], "start": "25:00", "end": "26:00"}]}),
            "rules[0].start",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": ok_rules, "overrides": [{"date": "2031-02-30", "intervals": []}]}),
            "overrides[0].date",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": ok_rules, "overrides": [{"date": "0000-12-24", "intervals": []}]}),
            "overrides[0].date",
        ),
        (
            json!({"name": "X", "timezone": "UTC", "rules": ok_rules, "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let r = app.a.api.post_json("/v1/schedules", &body, None).await;
        let d = r.err(422, "validation_error");
        let fields = d["fields"].as_object().cloned().unwrap_or_default();
        assert!(
            fields.keys().any(|k| k.starts_with(field)),
            "details.fields should name {field}: {}",
            r.describe()
        );
    }
    let r = app.a.api.get("/v1/schedules").await;
    assert_eq!(
        r.ok(200).as_array().map(Vec::len),
        Some(2),
        "nothing created"
    );
}

async fn overrides_change_the_slots(app: TestApp) {
    let day = days_after(BERLIN, app.now(), 3);
    let next = days_after(BERLIN, app.now(), 4);
    let slots = |app: &TestApp| {
        let path = format!(
            "/v1/slots?event_type_id={}&start={day}&end={next}&timezone=Europe/Berlin",
            app.a.event_type_id
        );
        let api = app.a.api.clone();
        async move {
            let r = api.get(&path).await;
            r.ok(200)["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .map(|s| s["start"].as_str().expect("start").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(slots(&app).await.len() >= 46);
    let path = format!("/v1/schedules/{}", app.a.owner.schedule_all_day);
    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"overrides": [{"date": day.to_string(), "intervals": [{"start": "10:00", "end": "11:00"}]}]}),
            Some("\"1\""),
            None,
        )
        .await;
    r.ok(200);
    assert_eq!(
        slots(&app).await,
        vec![
            wire(at(BERLIN, day, "10:00")),
            wire(at(BERLIN, day, "10:30"))
        ]
    );
    let r = app
        .a
        .api
        .patch_json(
            &path,
            &json!({"overrides": [{"date": day.to_string(), "intervals": []}]}),
            Some("\"2\""),
            None,
        )
        .await;
    r.ok(200);
    assert!(
        slots(&app).await.is_empty(),
        "an override without intervals closes the day"
    );
}

async fn schedule_in_use_cannot_be_deleted(app: TestApp) {
    let path = format!("/v1/schedules/{}", app.a.owner.schedule_workdays);
    let r = app.a.api.delete(&path).await;
    r.not_5xx();
    assert_eq!(r.status, 409, "{}", r.describe());
    r.request_id();
    app.a.api.get(&path).await.ok(200);
}

async fn schedule_reports_every_failing_field_at_once(app: TestApp) {
    let body = json!({
        "user_id": uuid::Uuid::new_v4(),
        "name": "",
        "timezone": "Mars/Base",
        "rules": [{"days": ["funday"], "start": "9:00", "end": "17:00"}],
        "overrides": [{"date": "24.12.2031", "intervals": []}],
    });
    let r = app.a.api.post_json("/v1/schedules", &body, None).await;
    let d = r.err(422, "validation_error");
    let mut fields: Vec<String> = d["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("details.fields object: {}", r.describe()))
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "name",
            "overrides[0].date",
            "rules[0].days[0]",
            "rules[0].start",
            "timezone",
            "user_id"
        ],
        "{}",
        r.describe()
    );
    let id = app.a.owner.schedule_workdays;
    let path = format!("/v1/schedules/{id}");
    let before = app.a.api.get(&path).await.ok(200).clone();
    let version = before["version"].as_i64().expect("version");
    let patch = json!({"name": " ", "timezone": "Nowhere/Land", "rules": [{"days": ["mon"], "start": "17:00", "end": "09:00"}]});
    let r = app
        .a
        .api
        .patch_json(&path, &patch, Some(&format!("\"{version}\"")), None)
        .await;
    let d = r.err(422, "validation_error");
    let mut fields: Vec<String> = d["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("details.fields object: {}", r.describe()))
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec!["name", "rules[0].end", "timezone"],
        "{}",
        r.describe()
    );
    let after = app.a.api.get(&path).await.ok(200).clone();
    assert_eq!(after["version"], before["version"], "nothing written");
}
