//! Durability: an SMTP outage or a busy relay delays but loses and duplicates nothing; a
//! permanent refusal is recorded as failed for operators; reminders go out once at the right
//! time under the test clock, never for a canceled booking or one made inside the window.

use super::{book, uid};
use domain::notification::{NotificationKind, NotificationState, RETRY_AFTER};
use domain::notification_service::NotificationLog;
use jiff::SignedDuration;
use serde_json::json;
use testkit::{SinkMode, TestApp};

fn log(app: &TestApp) -> NotificationLog {
    NotificationLog {
        store: app.store.clone(),
    }
}

fn org(app: &TestApp) -> domain::OrganizationId {
    domain::OrganizationId(app.a.org_id)
}

async fn an_outage_and_4xx_delay_but_lose_nothing(app: TestApp) {
    app.mail.set_mode(SinkMode::Down);
    let start = testkit::CLOCK_START + SignedDuration::from_hours(6);
    let b = book(&app, start, "Europe/Berlin").await;
    let r = app.drain_notifications().await;
    assert_eq!((r.sent, r.retried), (0, 3), "{r:?}");
    assert!(app.mail.messages().is_empty());

    // not due again before the backoff
    app.clock
        .advance(RETRY_AFTER[0] - SignedDuration::from_secs(1));
    assert_eq!(app.drain_notifications().await.handled(), 0);

    app.mail.set_mode(SinkMode::Busy);
    app.clock.advance(SignedDuration::from_secs(1));
    let r = app.drain_notifications().await;
    assert_eq!((r.sent, r.retried), (0, 3), "451 is transient: {r:?}");
    let pending = log(&app)
        .list(org(&app), Some(NotificationState::Pending), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 3);
    assert!(
        pending
            .iter()
            .all(|n| n.attempts == 2 && n.last_error.as_deref().unwrap_or("").contains("451")),
        "{pending:?}"
    );

    app.mail.set_mode(SinkMode::Accept);
    app.clock.advance(RETRY_AFTER[1]);
    let r = app.drain_notifications().await;
    assert_eq!(r.sent, 3, "{r:?}");
    let mails = app.mail.wait_for(3).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            "<alice@example.com>",
            "<ann@example.com>",
            "<gus@example.com>"
        ],
        "each recipient exactly once"
    );
    app.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(app.drain_notifications().await.handled(), 0);
    assert_eq!(app.mail.messages().len(), 3);
    let _ = uid(&b);
}

async fn a_permanent_refusal_is_recorded_as_failed(app: TestApp) {
    app.mail.set_mode(SinkMode::Refuse);
    book(
        &app,
        testkit::CLOCK_START + SignedDuration::from_hours(6),
        "Europe/Berlin",
    )
    .await;
    let r = app.drain_notifications().await;
    assert_eq!((r.failed, r.retried, r.sent), (3, 0, 0), "{r:?}");
    let failed = log(&app)
        .list(org(&app), Some(NotificationState::Failed), 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    assert!(
        failed
            .iter()
            .all(|n| n.attempts == 1 && n.last_error.as_deref().unwrap_or("").contains("550")),
        "{failed:?}"
    );
    // never retried
    app.mail.set_mode(SinkMode::Accept);
    app.clock.advance(SignedDuration::from_hours(24));
    assert_eq!(app.drain_notifications().await.handled(), 0);
    assert!(app.mail.messages().is_empty());
}

async fn reminders_go_once_at_the_right_time_and_not_when_canceled(app: TestApp) {
    let start = testkit::CLOCK_START + SignedDuration::from_hours(72);
    let kept = book(&app, start, "Europe/Berlin").await;
    let canceled = book(&app, start + SignedDuration::from_hours(1), "Europe/Berlin").await;
    let soon = book(
        &app,
        testkit::CLOCK_START + SignedDuration::from_hours(3),
        "Europe/Berlin",
    )
    .await;
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{}/cancel", uid(&canceled)),
            &json!({}),
            Some(&testkit::key()),
        )
        .await
        .ok(200);
    let r = app.drain_notifications().await;
    assert_eq!(
        r.sent, 12,
        "3 confirmations x 3 bookings + 3 cancellations: {r:?}"
    );
    let reminders = |app: &TestApp| {
        let app_org = org(app);
        let store = log(app);
        async move {
            store
                .list(app_org, None, 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == NotificationKind::Reminder)
                .collect::<Vec<_>>()
        }
    };
    let planned = reminders(&app).await;
    assert!(
        planned
            .iter()
            .all(|n| n.booking_uid.to_string() != uid(&soon)),
        "no reminder for a booking made inside the window"
    );

    app.clock
        .set(start - SignedDuration::from_hours(24) - SignedDuration::from_secs(1));
    assert_eq!(app.drain_notifications().await.handled(), 0, "not yet");
    app.clock.set(start - SignedDuration::from_hours(24));
    let r = app.drain_notifications().await;
    assert_eq!(r.sent, 3, "attendee, guest and host are reminded: {r:?}");
    let mails = app.mail.wait_for(15).await;
    let parsed = super::inspect(&mails[12..]);
    for m in &parsed {
        assert!(
            m["subject"].as_str().unwrap().starts_with("Reminder: "),
            "{m:#}"
        );
        assert!(
            m["calendars"].as_array().unwrap().is_empty(),
            "reminders carry no invite"
        );
        assert!(m["text"].as_str().unwrap().contains(uid(&kept)));
    }
    // the canceled booking's reminder time passes too: nothing
    app.clock.set(start + SignedDuration::from_mins(30));
    assert_eq!(app.drain_notifications().await.sent, 0);
    assert_eq!(
        app.mail.messages().len(),
        15,
        "once, and none for the canceled booking"
    );
    // The booking was canceled before the worker first read its outbox message, so no reminder
    // was ever queued for it; whatever exists for it must not have been sent.
    let for_canceled: Vec<_> = reminders(&app)
        .await
        .into_iter()
        .filter(|n| n.booking_uid.to_string() == uid(&canceled))
        .collect();
    assert!(
        for_canceled
            .iter()
            .all(|n| n.state == NotificationState::Skipped),
        "a canceled booking's reminder is never sent: {for_canceled:?}"
    );
}

testkit::both_backends!(
    an_outage_and_4xx_delay_but_lose_nothing,
    a_permanent_refusal_is_recorded_as_failed,
    reminders_go_once_at_the_right_time_and_not_when_canceled
);
