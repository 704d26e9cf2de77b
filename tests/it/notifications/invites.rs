//! The messages and invites of create → reschedule → cancel, and local times across DST.

use super::{book, inspect, to, uid};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use testkit::TestApp;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cal(m: &Value) -> &Value {
    let cals = m["calendars"].as_array().unwrap();
    assert_eq!(cals.len(), 2, "inline and attached invite: {m:#}");
    assert_eq!(cals[0], {
        let mut c = cals[1].clone();
        c["filename"] = cals[0]["filename"].clone();
        c
    });
    assert_eq!(cals[1]["filename"], "invite.ics");
    &cals[0]
}

async fn create_reschedule_cancel_send_invites(app: TestApp) {
    let start = testkit::CLOCK_START + SignedDuration::from_hours(50);
    let b = book(&app, start, "America/New_York").await;
    let first_uid = uid(&b).to_owned();
    let r = app.drain_notifications().await;
    assert_eq!(r.sent, 3, "attendee, guest and host: {r:?}");
    let created = inspect(&app.mail.wait_for(3).await);
    let ann = to(&created, "ann@example.com");
    assert_eq!(
        ann["parts"],
        json!([
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar",
            "text/calendar"
        ])
    );
    assert!(
        ann["subject"].as_str().unwrap().starts_with("Confirmed: "),
        "{ann:#}"
    );
    // 2027-01-13T08:00Z is 03:00 in New York (EST)
    let text = ann["text"].as_str().unwrap();
    assert!(
        text.contains("Wednesday, 13 January 2027, 03:00–03:30 (America/New_York, EST)"),
        "{text}"
    );
    let c = cal(ann);
    assert_eq!(c["method"], "REQUEST");
    assert_eq!(c["content_type_method"], "REQUEST");
    assert_eq!(c["uid"], format!("{first_uid}@slotbook"));
    assert_eq!(c["sequence"], 0);
    assert_eq!(c["status"], "CONFIRMED");
    assert_eq!(c["dtstart"], "2027-01-13T08:00:00+00:00");
    assert_eq!(c["dtend"], "2027-01-13T08:30:00+00:00");
    assert_eq!(c["organizer"], "mailto:alice@example.com");
    assert_eq!(
        c["attendees"],
        json!(["mailto:ann@example.com", "mailto:gus@example.com"])
    );
    let host = to(&created, "alice@example.com");
    let host_text = host["text"].as_str().unwrap();
    assert!(
        host_text.contains("09:00–09:30 (Europe/Berlin, CET)")
            && host_text.contains("Ann Attendee"),
        "the host sees Berlin time and who booked: {host_text}"
    );
    let gus = to(&created, "gus@example.com");
    assert_eq!(cal(gus)["uid"], format!("{first_uid}@slotbook"));

    // reschedule: same UID, SEQUENCE 1, new times, reason and the old time
    let new_start = start + SignedDuration::from_hours(2);
    let moved = app
        .a
        .api
        .post_json(
            &format!("/v1/bookings/{first_uid}/reschedule"),
            &json!({"start": testkit::time::wire(new_start), "reason": "dentist, sorry"}),
            Some(&testkit::key()),
        )
        .await
        .ok(200)
        .clone();
    let second_uid = uid(&moved).to_owned();
    assert_ne!(second_uid, first_uid);
    assert_eq!(app.drain_notifications().await.sent, 3);
    let all = app.mail.wait_for(6).await;
    let rescheduled = inspect(&all[3..]);
    let ann = to(&rescheduled, "ann@example.com");
    assert!(
        ann["subject"]
            .as_str()
            .unwrap()
            .starts_with("Rescheduled: ")
    );
    let text = ann["text"].as_str().unwrap();
    assert!(
        text.contains("05:00–05:30 (America/New_York, EST)"),
        "{text}"
    );
    assert!(
        text.contains("Was:   Wednesday, 13 January 2027, 03:00–03:30"),
        "{text}"
    );
    assert!(text.contains("dentist, sorry"), "{text}");
    let c = cal(ann);
    assert_eq!(
        (c["method"].clone(), c["uid"].clone(), c["sequence"].clone()),
        (
            json!("REQUEST"),
            json!(format!("{first_uid}@slotbook")),
            json!(1)
        )
    );
    assert_eq!(c["dtstart"], "2027-01-13T10:00:00+00:00");

    // cancel: METHOD:CANCEL, same UID, SEQUENCE 2
    app.a
        .api
        .post_json(
            &format!("/v1/bookings/{second_uid}/cancel"),
            &json!({"reason": "project ended"}),
            Some(&testkit::key()),
        )
        .await
        .ok(200);
    assert_eq!(app.drain_notifications().await.sent, 3);
    let all = app.mail.wait_for(9).await;
    let canceled = inspect(&all[6..]);
    for who in ["ann@example.com", "gus@example.com", "alice@example.com"] {
        let m = to(&canceled, who);
        assert!(m["subject"].as_str().unwrap().starts_with("Canceled: "));
        assert!(m["text"].as_str().unwrap().contains("project ended"));
        let c = cal(m);
        assert_eq!(c["method"], "CANCEL");
        assert_eq!(c["content_type_method"], "CANCEL");
        assert_eq!(c["status"], "CANCELLED");
        assert_eq!(c["uid"], format!("{first_uid}@slotbook"));
        assert_eq!(c["sequence"], 2);
    }
    // at most once per recipient and event: nothing more to send
    let again = app.drain_notifications().await;
    assert_eq!(again.handled(), 0, "{again:?}");
    assert_eq!(app.mail.messages().len(), 9);
}

async fn times_render_in_the_recipients_zone_across_dst(app: TestApp) {
    // Europe/Berlin switches to CEST on 2027-03-28; New York to EDT on 2027-03-14.
    app.clock.set(t("2027-03-20T06:00:00Z"));
    book(&app, t("2027-03-26T09:00:00Z"), "America/New_York").await;
    book(&app, t("2027-03-29T09:00:00Z"), "America/New_York").await;
    app.drain_notifications().await;
    let parsed = inspect(&app.mail.wait_for(6).await);
    let texts = |who: &str| -> Vec<String> {
        parsed
            .iter()
            .filter(|m| m["to"].as_str().unwrap().contains(who))
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let host = texts("alice@example.com").join("\n");
    assert!(
        host.contains("Friday, 26 March 2027, 10:00–10:30 (Europe/Berlin, CET)"),
        "{host}"
    );
    assert!(
        host.contains("Monday, 29 March 2027, 11:00–11:30 (Europe/Berlin, CEST)"),
        "{host}"
    );
    let ann = texts("ann@example.com").join("\n");
    assert!(
        ann.contains("Friday, 26 March 2027, 05:00–05:30 (America/New_York, EDT)"),
        "{ann}"
    );
    assert!(
        ann.contains("Monday, 29 March 2027, 05:00–05:30 (America/New_York, EDT)"),
        "{ann}"
    );
    for m in &parsed {
        let c = cal(m);
        assert!(
            c["dtstart"] == "2027-03-26T09:00:00+00:00"
                || c["dtstart"] == "2027-03-29T09:00:00+00:00",
            "invites stay in UTC: {c}"
        );
    }
}

testkit::both_backends!(
    create_reschedule_cancel_send_invites,
    times_render_in_the_recipients_zone_across_dst
);
