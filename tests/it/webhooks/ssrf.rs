//! The SSRF corpus refused at registration and, through a name resolving to loopback, at
//! delivery (strict policy: `allow_loopback_http = false`).

use super::*;

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
