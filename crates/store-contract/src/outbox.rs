//! The transactional outbox ([`OutboxStore`]): leases, expiry, `mark_done`, `pending`, and
//! disjoint claims by concurrent claimers.

use crate::fixtures::{World, millis};
use domain::ids::OutboxId;
use domain::ports::*;
use jiff::SignedDuration;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::Barrier;

const LEASE: SignedDuration = SignedDuration::from_secs(30);

/// Claims lease the oldest messages; a second claim inside the lease gets none of them; after
/// the lease expires they come back; claimed messages round-trip whole.
pub async fn claims_lease_messages(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let mut sent = Vec::new();
    for i in 0..3 {
        let m = w.outbox_message(org.id, &format!("booking.created.{i}"));
        w.store.enqueue(&m).await.unwrap();
        sent.push(m);
        w.clock.advance(millis(1));
    }
    let now = w.now();

    let first = w.store.claim(now, LEASE, 2).await.unwrap();
    assert_eq!(first, sent[..2].to_vec(), "oldest first, at most max");
    let second = w.store.claim(now, LEASE, 10).await.unwrap();
    assert_eq!(second, sent[2..].to_vec(), "leased messages are skipped");
    assert_eq!(
        w.store
            .claim(now + LEASE - millis(1), LEASE, 10)
            .await
            .unwrap(),
        vec![]
    );

    let expired = now + LEASE + millis(1);
    assert_eq!(
        w.store.claim(expired, LEASE, 10).await.unwrap(),
        sent,
        "leases expire"
    );
    assert_eq!(
        w.store.claim(expired, LEASE, 10).await.unwrap(),
        vec![],
        "and are renewed"
    );
    assert_eq!(
        w.store.pending(org.id).await.unwrap(),
        sent,
        "claimed is still pending"
    );
}

/// `mark_done` is final; `pending` lists one organization's undone messages oldest first.
pub async fn done_messages_are_never_claimed_again(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("a").await;
    let b = w.create_organization("b").await;
    let mut a_msgs = Vec::new();
    let mut b_msgs = Vec::new();
    for i in 0..4 {
        let m = w.outbox_message(a.id, "booking.created");
        w.store.enqueue(&m).await.unwrap();
        a_msgs.push(m);
        w.clock.advance(millis(1));
        if i % 2 == 0 {
            let m = w.outbox_message(b.id, "booking.canceled");
            w.store.enqueue(&m).await.unwrap();
            b_msgs.push(m);
        }
    }
    assert_eq!(w.store.pending(a.id).await.unwrap(), a_msgs);
    assert_eq!(w.store.pending(b.id).await.unwrap(), b_msgs);

    let now = w.now();
    let claimed = w.store.claim(now, LEASE, 100).await.unwrap();
    assert_eq!(claimed.len(), 6);
    w.store.mark_done(a.id, a_msgs[1].id, now).await.unwrap();
    w.store.mark_done(b.id, b_msgs[0].id, now).await.unwrap();
    // Marking a message of another organization does nothing.
    w.store.mark_done(a.id, b_msgs[1].id, now).await.unwrap();

    let later = now + LEASE + millis(1);
    let again = w.store.claim(later, LEASE, 100).await.unwrap();
    let again: BTreeSet<OutboxId> = again.iter().map(|m| m.id).collect();
    let expected: BTreeSet<OutboxId> =
        [a_msgs[0].id, a_msgs[2].id, a_msgs[3].id, b_msgs[1].id].into();
    assert_eq!(again, expected);
    assert_eq!(
        w.store.pending(a.id).await.unwrap(),
        vec![a_msgs[0].clone(), a_msgs[2].clone(), a_msgs[3].clone()]
    );
    assert_eq!(
        w.store.pending(b.id).await.unwrap(),
        vec![b_msgs[1].clone()]
    );

    for m in a_msgs.iter().chain(&b_msgs) {
        w.store
            .mark_done(m.organization_id, m.id, later)
            .await
            .unwrap();
    }
    let much_later = later + SignedDuration::from_hours(48);
    assert_eq!(w.store.claim(much_later, LEASE, 100).await.unwrap(), vec![]);
    assert_eq!(w.store.pending(a.id).await.unwrap(), vec![]);
}

/// Many claimers racing over one backlog receive disjoint batches that cover it.
pub async fn concurrent_claimers_never_share_a_message(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("acme").await;
    let mut sent = BTreeSet::new();
    for _ in 0..120 {
        let m = w.outbox_message(org.id, "booking.created");
        w.store.enqueue(&m).await.unwrap();
        sent.insert(m.id);
    }
    let now = w.now();
    let claimers = 8;
    let barrier = Arc::new(Barrier::new(claimers));
    let tasks: Vec<_> = (0..claimers)
        .map(|_| {
            let (store, barrier) = (w.store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim(now, LEASE, 7).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in futures::future::join_all(tasks).await {
        let mine = t.unwrap();
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!(total, seen.len(), "a message was handed to two claimers");
    assert_eq!(seen, sent, "every message was claimed");
}
