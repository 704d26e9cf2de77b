//! Notification storage ([`NotificationStore`]): the notification consumer's outbox cursor is
//! independent of the webhook fan-out's, fan-out is idempotent per (event, kind, recipient),
//! claims lease due rows, records round-trip, canceled bookings' reminders are skipped, and
//! lists are per organization and state.

use crate::fixtures::{World, millis};
use domain::ids::{BookingUid, OrganizationId};
use domain::notification::*;
use domain::ports::*;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

const LEASE: SignedDuration = SignedDuration::from_secs(30);
const EVENTS: [&str; 2] = ["booking.created", "booking.canceled"];

fn row(
    w: &World,
    m: &OutboxMessage,
    booking: BookingUid,
    kind: NotificationKind,
    email: &str,
    due: Timestamp,
) -> Notification {
    Notification {
        id: NotificationId(w.id()),
        organization_id: m.organization_id,
        outbox_id: m.id,
        booking_uid: booking,
        kind,
        recipient: Recipient {
            email: email.to_owned(),
            name: Some("Ann Example".into()),
            timezone: "Europe/Berlin".into(),
            role: RecipientRole::Attendee,
        },
        content: MessageContent {
            subject: "Confirmed: Intro".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
            calendar: Some(CalendarPart {
                method: CalendarMethod::Request,
                ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
            }),
        },
        state: NotificationState::Pending,
        attempts: 0,
        next_attempt_at: Some(due),
        last_error: None,
        sent_at: None,
        created_at: w.now(),
        updated_at: w.now(),
    }
}

/// The consumer claims only the named events, with a lease; `fan_out_notifications` marks the
/// message handled for notifications only (the webhook claim still sees it).
pub async fn notification_cursor_is_independent_of_webhooks(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let created = w.outbox_message(org.id, "booking.created");
    w.store.enqueue(&created).await.unwrap();
    w.clock.advance(millis(1));
    let updated = w.outbox_message(org.id, "booking.updated");
    w.store.enqueue(&updated).await.unwrap();
    let now = w.now();

    let claimed = w
        .store
        .claim_notification_events(&EVENTS, now, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed, vec![created.clone()], "only the named events");
    assert!(
        w.store
            .claim_notification_events(&EVENTS, now, LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    w.store
        .fan_out_notifications(&created, &[], &[], now)
        .await
        .unwrap();
    let later = now + LEASE + millis(1);
    assert!(
        w.store
            .claim_notification_events(&EVENTS, later, LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "handled messages are never claimed again"
    );
    let webhook_side = w.store.claim(now, LEASE, 10).await.unwrap();
    assert_eq!(
        webhook_side,
        vec![created.clone(), updated.clone()],
        "the webhook fan-out's claim is untouched"
    );
    // and the other way round: a message done for webhooks is still there for notifications
    let second = w.outbox_message(org.id, "booking.canceled");
    w.store.enqueue(&second).await.unwrap();
    w.store.mark_done(org.id, second.id, now).await.unwrap();
    assert_eq!(
        w.store
            .claim_notification_events(&EVENTS, later, LEASE, 10)
            .await
            .unwrap(),
        vec![second]
    );
}

/// A repeated fan-out adds nothing (one row per event, kind and recipient, e-mail compared
/// case-insensitively); rows round-trip whole; claims take due rows only, earliest first, and
/// lease them; a recorded row keeps its new state and leaves the queue.
pub async fn notification_fan_out_is_idempotent_and_claims_lease(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let m = w.outbox_message(org.id, "booking.created");
    w.store.enqueue(&m).await.unwrap();
    let booking = BookingUid(w.id());
    let now = w.now();
    let later = now + SignedDuration::from_hours(24);
    let first = row(
        &w,
        &m,
        booking,
        NotificationKind::Created,
        "ann@example.com",
        now,
    );
    let reminder = row(
        &w,
        &m,
        booking,
        NotificationKind::Reminder,
        "ann@example.com",
        later,
    );
    w.store
        .fan_out_notifications(&m, &[first.clone(), reminder.clone()], &[], now)
        .await
        .unwrap();
    let again = row(
        &w,
        &m,
        booking,
        NotificationKind::Created,
        "ANN@example.com",
        now,
    );
    w.store
        .fan_out_notifications(&m, &[again], &[], now)
        .await
        .unwrap();
    let all = w.store.list_notifications(org.id, None, 10).await.unwrap();
    assert_eq!(all.len(), 2, "the repeat added nothing: {all:?}");
    assert!(
        all.contains(&first) && all.contains(&reminder),
        "round trip"
    );

    let claimed = w.store.claim_notifications(now, LEASE, 10).await.unwrap();
    assert_eq!(claimed, vec![first.clone()], "only what is due");
    assert!(
        w.store
            .claim_notifications(now, LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let mut failed = first.clone();
    after_send(
        &mut failed,
        &SendOutcome::Transient("451 try later".into()),
        now,
    );
    w.store.record_notification(&failed).await.unwrap();
    assert!(
        w.store
            .claim_notifications(now + millis(1), LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due before its backoff"
    );
    let retry_at = failed.next_attempt_at.unwrap();
    let claimed = w
        .store
        .claim_notifications(retry_at, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed, vec![failed.clone()], "the lease was released");
    let mut sent = failed;
    after_send(&mut sent, &SendOutcome::Sent, retry_at);
    w.store.record_notification(&sent).await.unwrap();
    let both = w.store.claim_notifications(later, LEASE, 10).await.unwrap();
    assert_eq!(both, vec![reminder], "sent rows leave the queue");
    let listed = w
        .store
        .list_notifications(org.id, Some(NotificationState::Sent), 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![sent]);
}

/// Fan-out of a cancellation skips the booking's pending reminders (and only those).
pub async fn canceled_bookings_reminders_are_skipped(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let m = w.outbox_message(org.id, "booking.created");
    w.store.enqueue(&m).await.unwrap();
    let (b1, b2) = (BookingUid(w.id()), BookingUid(w.id()));
    let due = w.now() + SignedDuration::from_hours(24);
    let r1 = row(&w, &m, b1, NotificationKind::Reminder, "a@example.com", due);
    let r2 = row(&w, &m, b2, NotificationKind::Reminder, "b@example.com", due);
    let c1 = row(&w, &m, b1, NotificationKind::Created, "a@example.com", due);
    w.store
        .fan_out_notifications(&m, &[r1.clone(), r2.clone(), c1.clone()], &[], w.now())
        .await
        .unwrap();
    let cancel = w.outbox_message(org.id, "booking.canceled");
    w.store.enqueue(&cancel).await.unwrap();
    w.store
        .fan_out_notifications(&cancel, &[], &[b1], w.now())
        .await
        .unwrap();
    let claimed = w.store.claim_notifications(due, LEASE, 10).await.unwrap();
    let mut ids: Vec<_> = claimed.iter().map(|n| n.id).collect();
    ids.sort();
    let mut want = vec![r2.id, c1.id];
    want.sort();
    assert_eq!(
        ids, want,
        "b1's reminder is skipped, its other message is not"
    );
    let skipped = w
        .store
        .list_notifications(org.id, Some(NotificationState::Skipped), 10)
        .await
        .unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].id, skipped[0].next_attempt_at), (r1.id, None));
}

/// Lists are one organization's, newest first, filtered by state, at most `limit`.
pub async fn notification_lists_are_per_tenant(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("a").await;
    let b = w.create_organization("b").await;
    let mut a_rows = Vec::new();
    for (org, n) in [(a.id, 3), (b.id, 1)] {
        let m = w.outbox_message(org, "booking.created");
        w.store.enqueue(&m).await.unwrap();
        for i in 0..n {
            let r = row(
                &w,
                &m,
                BookingUid(w.id()),
                NotificationKind::Created,
                &format!("p{i}@example.com"),
                w.now(),
            );
            w.clock.advance(millis(1));
            if org == a.id {
                a_rows.push(r.clone());
            }
            w.store
                .fan_out_notifications(&m, &[r], &[], w.now())
                .await
                .unwrap();
        }
    }
    let listed = w.store.list_notifications(a.id, None, 10).await.unwrap();
    a_rows.reverse();
    assert_eq!(listed, a_rows, "newest first, only a's");
    assert_eq!(
        w.store.list_notifications(a.id, None, 2).await.unwrap(),
        a_rows[..2].to_vec()
    );
    assert!(
        w.store
            .list_notifications(a.id, Some(NotificationState::Failed), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        w.store
            .list_notifications(b.id, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let nobody = OrganizationId(w.id());
    assert!(
        w.store
            .list_notifications(nobody, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
