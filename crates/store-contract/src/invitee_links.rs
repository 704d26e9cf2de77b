//! Invitee self-service links ([`InviteeLinkStore`]): one link per booking, the first stored
//! wins (also when two writers race), lookup by hash stays inside the organization, and
//! [`InviteeLinks`] over the store issues one link per booking and resolves exactly it.

use crate::fixtures::World;
use domain::booking::Booking;
use domain::booking_page::link::{InviteeLink, InviteeLinks, LinkSecrets};
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::*;
use domain::webhook_service::SecretBox;
use std::sync::Arc;
use tokio::sync::Barrier;

fn link(b: &Booking, hash: &[u8], sealed: &[u8], w: &World) -> InviteeLink {
    InviteeLink {
        organization_id: b.organization_id,
        booking_uid: b.uid,
        token_hash: hash.to_vec(),
        sealed_token: sealed.to_vec(),
        created_at: w.now(),
    }
}

async fn booked(w: &World, t: &crate::fixtures::Tenant, day: i64) -> Booking {
    let et = w.create_individual(t, &format!("links-{day}")).await;
    let b = w.booking(&et, t.owner.id, crate::fixtures::day(day));
    w.insert(&b, false).await.unwrap();
    b
}

/// A link round-trips by booking and by hash; a second link for the same booking is not
/// stored (the first is returned); another organization's hash finds nothing.
pub async fn invitee_links_round_trip_and_first_wins(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    let ba = booked(&w, &a, 1).await;
    let bb = booked(&w, &b, 1).await;
    assert_eq!(w.store.invitee_link(a.org.id, ba.uid).await.unwrap(), None);

    let first = link(&ba, &[1; 32], b"sealed-1", &w);
    let stored = w.store.insert_invitee_link(&first).await.unwrap();
    assert_eq!(stored.token_hash, first.token_hash);
    assert_eq!(stored.sealed_token, first.sealed_token);
    assert_eq!(stored.booking_uid, ba.uid);
    let second = link(&ba, &[2; 32], b"sealed-2", &w);
    let kept = w.store.insert_invitee_link(&second).await.unwrap();
    assert_eq!(kept.token_hash, first.token_hash, "the first link stays");
    assert_eq!(kept.sealed_token, first.sealed_token);

    let by_uid = w
        .store
        .invitee_link(a.org.id, ba.uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_uid.token_hash, first.token_hash);
    let by_hash = w
        .store
        .find_invitee_link(a.org.id, &[1; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_hash.organization_id, by_hash.booking_uid),
        (a.org.id, ba.uid)
    );
    assert_eq!(
        w.store.find_invitee_link(a.org.id, &[2; 32]).await.unwrap(),
        None
    );
    // Tenancy: the same hash in another organization finds nothing there, and that
    // organization's own link is separate.
    assert_eq!(
        w.store.find_invitee_link(b.org.id, &[1; 32]).await.unwrap(),
        None
    );
    assert_eq!(w.store.invitee_link(b.org.id, ba.uid).await.unwrap(), None);
    let other = link(&bb, &[1; 32], b"sealed-b", &w);
    w.store.insert_invitee_link(&other).await.unwrap();
    let found = w
        .store
        .find_invitee_link(b.org.id, &[1; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.booking_uid, bb.uid);
    let found = w
        .store
        .find_invitee_link(a.org.id, &[1; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.booking_uid, ba.uid);
}

/// Racing writers of one booking's link all get the same (one stored) link back.
pub async fn racing_link_writers_agree(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("race").await;
    let b = booked(&w, &t, 2).await;
    let n = 8u8;
    let barrier = Arc::new(Barrier::new(usize::from(n)));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let l = link(&b, &[i; 32], &[i], &w);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.insert_invitee_link(&l).await.unwrap()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap().token_hash);
    }
    got.dedup();
    assert_eq!(
        got.len(),
        1,
        "every writer sees the one stored link: {got:?}"
    );
    let stored = w
        .store
        .invitee_link(t.org.id, b.uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token_hash, got[0]);
}

/// Test doubles for the service's crypto ports (the real ones live in `auth` and `webhooks`).
struct PlainSecrets(std::sync::atomic::AtomicU64);

impl LinkSecrets for PlainSecrets {
    fn mint(&self, org: OrganizationId) -> Result<String, StoreError> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(format!("{}.{n}", org.0))
    }
    fn parse(&self, token: &str) -> Option<domain::booking_page::link::PresentedLink> {
        let (org, _) = token.split_once('.')?;
        Some(domain::booking_page::link::PresentedLink {
            organization_id: OrganizationId(org.parse().ok()?),
            token_hash: format!("hash:{token}").into_bytes(),
        })
    }
}

struct ReversedBox;

impl SecretBox for ReversedBox {
    fn generate(&self) -> Result<String, StoreError> {
        Ok("unused".into())
    }
    fn seal(&self, secret: &str) -> Result<Vec<u8>, StoreError> {
        Ok(secret.bytes().rev().collect())
    }
    fn open(&self, sealed: &[u8]) -> Result<String, StoreError> {
        Ok(String::from_utf8(sealed.iter().rev().copied().collect()).unwrap())
    }
}

/// [`InviteeLinks`] over the store: one token per booking (asked again, or by racing callers,
/// the same token), stored only hashed and sealed, resolving to exactly its booking; unknown,
/// malformed and other organizations' tokens resolve to nothing.
pub async fn invitee_links_issue_once_and_resolve(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    let (b1, b2, bb) = (
        booked(&w, &a, 3).await,
        booked(&w, &a, 4).await,
        booked(&w, &b, 3).await,
    );
    let links = InviteeLinks::new(
        w.store.clone(),
        Arc::new(PlainSecrets(0.into())),
        Arc::new(ReversedBox),
        w.clock.clone(),
    );
    let mut racing = Vec::new();
    for _ in 0..4 {
        let l = links.clone();
        let (org, uid) = (a.org.id, b1.uid);
        racing.push(tokio::spawn(
            async move { l.token_for(org, uid).await.unwrap() },
        ));
    }
    let mut tokens = Vec::new();
    for r in racing {
        tokens.push(r.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let t1 = tokens.remove(0);
    assert_eq!(links.token_for(a.org.id, b1.uid).await.unwrap(), t1);
    let t2 = links.token_for(a.org.id, b2.uid).await.unwrap();
    let tb = links.token_for(b.org.id, bb.uid).await.unwrap();
    assert_ne!(t1, t2);
    assert_eq!(
        links.path_for(a.org.id, b2.uid).await.unwrap(),
        format!("/_b/{t2}")
    );
    // Stored hashed and sealed, never as the token.
    let row = w
        .store
        .invitee_link(a.org.id, b1.uid)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.token_hash, t1.as_bytes());
    assert_ne!(row.sealed_token, t1.as_bytes());

    assert_eq!(links.open(&t1).await.unwrap(), Some((a.org.id, b1.uid)));
    assert_eq!(links.open(&t2).await.unwrap(), Some((a.org.id, b2.uid)));
    assert_eq!(links.open(&tb).await.unwrap(), Some((b.org.id, bb.uid)));
    // Unknown and malformed tokens; a real token's secret part under another organization.
    let suffix = t1.split_once('.').unwrap().1;
    for bad in [
        "no-dot".to_owned(),
        format!("{}.999", a.org.id.0),
        format!("{}.{suffix}", b.org.id.0),
        format!("{}.{suffix}", BookingUid(w.id()).0),
    ] {
        assert_eq!(links.open(&bad).await.unwrap(), None, "{bad}");
    }
}
