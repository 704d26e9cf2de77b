//! The notification rules with fixed inputs.

use super::*;
use crate::booking::BookingStatus;
use crate::fixtures::{BookingBuilder, attendee};
use crate::ids::{EventTypeId, UserId};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn booking(start: &str, made: &str) -> Booking {
    let mut a = attendee("ann@example.com");
    a.timezone = Some("America/New_York".into());
    BookingBuilder::new(
        BookingUid(Uuid::from_u128(1)),
        OrganizationId(Uuid::from_u128(2)),
        EventTypeId(Uuid::from_u128(3)),
        UserId(Uuid::from_u128(4)),
        t(start),
        t(start) + SignedDuration::from_mins(30),
    )
    .attendees(vec![a])
    .guests(vec!["gus@example.com".into(), "ANN@example.com".into()])
    .timezone("Europe/Berlin")
    .at(t(made))
    .build()
}

fn kinds(p: &Plan) -> Vec<(&'static str, String, Timestamp)> {
    p.messages
        .iter()
        .map(|m| (m.kind.as_str(), m.recipient.email.clone(), m.due))
        .collect()
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

#[test]
fn recipients_are_attendees_guests_once_each_in_their_zones() {
    let b = booking("2027-01-20T10:00:00Z", "2027-01-11T06:00:00Z");
    let r = recipients(&b, None);
    let got: Vec<(&str, &str, &str)> = r
        .iter()
        .map(|r| (r.email.as_str(), r.timezone.as_str(), r.role.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ann@example.com", "America/New_York", "attendee"),
            ("gus@example.com", "Europe/Berlin", "guest"),
        ]
    );
}

#[test]
fn created_sends_now_and_reminds_a_day_before() {
    let now = t("2027-01-11T06:00:00Z");
    let b = booking("2027-01-20T10:00:00Z", "2027-01-11T06:00:00Z");
    let p = plan("booking.created", &b, None, None, DAY, now);
    assert_eq!(
        kinds(&p),
        vec![
            ("created", "ann@example.com".into(), now),
            ("created", "gus@example.com".into(), now),
            (
                "reminder",
                "ann@example.com".into(),
                t("2027-01-19T10:00:00Z")
            ),
            (
                "reminder",
                "gus@example.com".into(),
                t("2027-01-19T10:00:00Z")
            ),
        ]
    );
    assert!(p.cancel_reminders_of.is_empty());
}

#[test]
fn no_reminder_for_a_booking_made_inside_the_window() {
    let now = t("2027-01-11T06:00:00Z");
    let b = booking("2027-01-12T05:00:00Z", "2027-01-11T06:00:00Z");
    let p = plan("booking.created", &b, None, None, DAY, now);
    assert!(
        p.messages
            .iter()
            .all(|m| m.kind == NotificationKind::Created)
    );
    assert_eq!(reminder_due(b.start, DAY, b.created_at), None);
    // exactly at the boundary: nothing either (the reminder would be due when it was made)
    assert_eq!(reminder_due(t("2027-01-12T06:00:00Z"), DAY, now), None);
    assert_eq!(
        reminder_due(t("2027-01-12T06:00:01Z"), DAY, now),
        Some(t("2027-01-11T06:00:01Z"))
    );
    assert_eq!(reminder_due(b.start, SignedDuration::ZERO, now), None);
}

#[test]
fn cancel_notifies_and_drops_reminders_without_a_new_one() {
    let now = t("2027-01-12T06:00:00Z");
    let mut b = booking("2027-01-20T10:00:00Z", "2027-01-11T06:00:00Z");
    b.status = BookingStatus::Canceled;
    let p = plan("booking.canceled", &b, None, None, DAY, now);
    assert!(
        p.messages
            .iter()
            .all(|m| m.kind == NotificationKind::Canceled)
    );
    assert_eq!(p.messages.len(), 2);
    assert_eq!(p.cancel_reminders_of, vec![b.uid]);
}

#[test]
fn reschedule_drops_the_old_reminders_and_plans_new_ones() {
    let now = t("2027-01-12T06:00:00Z");
    let mut b = booking("2027-01-25T10:00:00Z", "2027-01-12T06:00:00Z");
    b.reschedule_generation = 1;
    let old = BookingUid(Uuid::from_u128(9));
    let p = plan("booking.rescheduled", &b, Some(old), None, DAY, now);
    assert_eq!(p.cancel_reminders_of, vec![old]);
    let k: Vec<&str> = p.messages.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        k,
        vec!["rescheduled", "rescheduled", "reminder", "reminder"]
    );
    assert_eq!(sequence_of(&b, CalendarMethod::Request), 1);
    assert_eq!(sequence_of(&b, CalendarMethod::Cancel), 2);
}

#[test]
fn other_events_send_nothing() {
    let b = booking("2027-01-20T10:00:00Z", "2027-01-11T06:00:00Z");
    let p = plan("booking.updated", &b, None, None, DAY, b.created_at);
    assert_eq!(p, Plan::default());
}

fn notification() -> Notification {
    let now = t("2027-01-11T06:00:00Z");
    Notification {
        id: NotificationId(Uuid::from_u128(5)),
        organization_id: OrganizationId(Uuid::from_u128(2)),
        outbox_id: OutboxId(Uuid::from_u128(6)),
        booking_uid: BookingUid(Uuid::from_u128(1)),
        kind: NotificationKind::Created,
        recipient: recipients(
            &booking("2027-01-20T10:00:00Z", "2027-01-11T06:00:00Z"),
            None,
        )
        .remove(0),
        content: MessageContent {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            calendar: None,
        },
        state: NotificationState::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        sent_at: None,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn transient_failures_back_off_then_fail() {
    let mut n = notification();
    let mut now = t("2027-01-11T06:00:00Z");
    for wait in RETRY_AFTER {
        let e = after_send(&mut n, &SendOutcome::Transient("451 busy".into()), now);
        assert_eq!(e, SendEffect::Retry);
        assert_eq!(n.state, NotificationState::Pending);
        assert_eq!(n.next_attempt_at, Some(now + wait));
        now += wait;
    }
    let e = after_send(&mut n, &SendOutcome::Transient("451 busy".into()), now);
    assert_eq!(e, SendEffect::Failed);
    assert_eq!(
        (n.state, n.attempts, n.next_attempt_at),
        (
            NotificationState::Failed,
            RETRY_AFTER.len() as u32 + 1,
            None
        )
    );
    assert_eq!(n.last_error.as_deref(), Some("451 busy"));
}

#[test]
fn permanent_failure_is_final_and_success_clears_the_error() {
    let mut n = notification();
    let now = t("2027-01-11T06:00:00Z");
    after_send(&mut n, &SendOutcome::Transient("421 down".into()), now);
    assert_eq!(
        after_send(&mut n, &SendOutcome::Sent, now),
        SendEffect::Sent
    );
    assert_eq!(
        (n.state, n.sent_at, n.last_error.clone()),
        (NotificationState::Sent, Some(now), None)
    );
    let mut n = notification();
    let e = after_send(
        &mut n,
        &SendOutcome::Permanent("550 no such user".into()),
        now,
    );
    assert_eq!(e, SendEffect::Failed);
    assert_eq!(
        (n.state, n.next_attempt_at),
        (NotificationState::Failed, None)
    );
}

#[test]
fn names_round_trip() {
    for k in NotificationKind::ALL {
        assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
    }
    for s in NotificationState::ALL {
        assert_eq!(NotificationState::parse(s.as_str()), Some(s));
    }
    for m in [CalendarMethod::Request, CalendarMethod::Cancel] {
        assert_eq!(CalendarMethod::parse(m.as_str()), Some(m));
    }
    assert_eq!(RecipientRole::parse("host"), Some(RecipientRole::Host));
}
