//! Personal access tokens ([`TokenStore`]): round trips, the cross-tenant lookup, revocation,
//! case-insensitive unique names, and the cap of active tokens under concurrency.

use crate::fixtures::{World, millis, scopes};
use domain::ids::TokenId;
use domain::ports::*;
use std::sync::Arc;
use tokio::sync::Barrier;

/// Tokens round-trip whole through lookup and list (oldest first, optionally one user's).
pub async fn tokens_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let bob = w.create_user(&t.org, "bob").await;
    let first = w.pat(&t.org, &t.owner, "CI");
    w.store.create_pat(&first, w.now()).await.unwrap();
    w.clock.advance(millis(1));
    let mut second = w.pat(&t.org, &bob, "laptop");
    second.expires_at = None;
    second.scopes = scopes(&["user:read"]);
    w.store.create_pat(&second, w.now()).await.unwrap();
    w.clock.advance(millis(1));
    let third = w.pat(&t.org, &t.owner, "deploy");
    w.store.create_pat(&third, w.now()).await.unwrap();

    for p in [&first, &second, &third] {
        assert_eq!(
            w.store
                .find_pat_by_lookup(&p.lookup)
                .await
                .unwrap()
                .as_ref(),
            Some(p)
        );
    }
    assert_eq!(
        w.store.find_pat_by_lookup("nosuchlookup").await.unwrap(),
        None
    );
    assert_eq!(
        w.store.list_pats(t.org.id, None).await.unwrap(),
        vec![first.clone(), second.clone(), third.clone()]
    );
    assert_eq!(
        w.store.list_pats(t.org.id, Some(t.owner.id)).await.unwrap(),
        vec![first, third]
    );
    assert_eq!(
        w.store.list_pats(t.org.id, Some(bob.id)).await.unwrap(),
        vec![second]
    );
}

/// Lookup crosses tenants by design: the token names its own organization.
pub async fn token_lookup_crosses_tenants(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    let pa = w.pat(&a.org, &a.owner, "same");
    let pb = w.pat(&b.org, &b.owner, "same");
    w.store.create_pat(&pa, w.now()).await.unwrap();
    w.store.create_pat(&pb, w.now()).await.unwrap();
    let found = w
        .store
        .find_pat_by_lookup(&pb.lookup)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.organization_id, b.org.id);
    assert_eq!(found, pb);
    assert_eq!(
        w.store.find_pat_by_lookup(&pa.lookup).await.unwrap(),
        Some(pa)
    );
}

/// Revocation stamps `revoked_at` once; the lookup then shows it revoked; a second revoke or an
/// unknown id is `false`.
pub async fn revoked_tokens_are_never_active(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let mut pat = w.pat(&t.org, &t.owner, "CI");
    w.store.create_pat(&pat, w.now()).await.unwrap();
    let other = w.pat(&t.org, &t.owner, "other");
    w.store.create_pat(&other, w.now()).await.unwrap();

    w.clock.advance(millis(1234));
    assert!(w.store.revoke_pat(t.org.id, pat.id, w.now()).await.unwrap());
    pat.revoked_at = Some(w.now());
    assert_eq!(
        w.store.find_pat_by_lookup(&pat.lookup).await.unwrap(),
        Some(pat.clone())
    );

    w.clock.advance(millis(1));
    assert!(
        !w.store.revoke_pat(t.org.id, pat.id, w.now()).await.unwrap(),
        "already revoked"
    );
    assert_eq!(
        w.store.find_pat_by_lookup(&pat.lookup).await.unwrap(),
        Some(pat.clone()),
        "a second revoke keeps the first instant"
    );
    assert!(
        !w.store
            .revoke_pat(t.org.id, TokenId(w.id()), w.now())
            .await
            .unwrap()
    );
    assert_eq!(
        w.store.find_pat_by_lookup(&other.lookup).await.unwrap(),
        Some(other.clone())
    );
    assert_eq!(
        w.store.list_pats(t.org.id, None).await.unwrap(),
        vec![pat, other]
    );
}

/// Names are unique per organization, case-insensitively → `NameTaken`; another organization
/// may reuse a name.
pub async fn token_names_are_unique_case_insensitively(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    w.store
        .create_pat(&w.pat(&a.org, &a.owner, "Deploy Key"), w.now())
        .await
        .unwrap();
    let clash = w.pat(&a.org, &a.owner, "deploy KEY");
    let err = w.store.create_pat(&clash, w.now()).await.unwrap_err();
    assert!(matches!(err, CreatePatError::NameTaken), "{err:?}");
    assert_eq!(
        w.store.find_pat_by_lookup(&clash.lookup).await.unwrap(),
        None
    );
    w.store
        .create_pat(&w.pat(&b.org, &b.owner, "deploy key"), w.now())
        .await
        .unwrap();
    assert_eq!(w.store.list_pats(a.org.id, None).await.unwrap().len(), 1);
}

/// At most 42 active tokens: the 43rd is `TooManyActive`; revoked and expired ones do not
/// count; tokens that expire later do.
pub async fn at_most_42_active_tokens(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let other = w.create_tenant("other").await;
    let now = w.now();
    let mut made = Vec::new();
    for i in 0..MAX_ACTIVE_PATS {
        let mut p = w.pat(&t.org, &t.owner, &format!("token {i}"));
        if i % 3 == 0 {
            p.expires_at = None;
        }
        if i == 5 {
            // Expires 1 ms after `now`: still active now.
            p.expires_at = Some(now + millis(1));
        }
        w.store.create_pat(&p, now).await.unwrap();
        made.push(p);
    }
    let extra = w.pat(&t.org, &t.owner, "one too many");
    let err = w.store.create_pat(&extra, now).await.unwrap_err();
    assert!(matches!(err, CreatePatError::TooManyActive), "{err:?}");
    assert_eq!(
        w.store.find_pat_by_lookup(&extra.lookup).await.unwrap(),
        None
    );

    // Another organization has its own allowance.
    w.store
        .create_pat(&w.pat(&other.org, &other.owner, "x"), now)
        .await
        .unwrap();

    // Token 5 has expired by `now + 2ms`: its slot is free.
    let later = now + millis(2);
    w.store.create_pat(&extra, later).await.unwrap();
    let again = w.pat(&t.org, &t.owner, "and another");
    let err = w.store.create_pat(&again, later).await.unwrap_err();
    assert!(matches!(err, CreatePatError::TooManyActive), "{err:?}");

    // Revoking frees a slot.
    assert!(
        w.store
            .revoke_pat(t.org.id, made[0].id, later)
            .await
            .unwrap()
    );
    w.store.create_pat(&again, later).await.unwrap();
    let err = w
        .store
        .create_pat(&w.pat(&t.org, &t.owner, "last"), later)
        .await
        .unwrap_err();
    assert!(matches!(err, CreatePatError::TooManyActive), "{err:?}");
    assert_eq!(w.store.list_pats(t.org.id, None).await.unwrap().len(), 44);
}

/// Concurrent creations race the cap: exactly the allowance is granted.
pub async fn concurrent_token_creation_respects_the_cap(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    let now = w.now();
    for i in 0..30 {
        let p = w.pat(&t.org, &t.owner, &format!("pre {i}"));
        w.store.create_pat(&p, now).await.unwrap();
    }
    let racers = 24;
    let barrier = Arc::new(Barrier::new(racers));
    let tasks: Vec<_> = (0..racers)
        .map(|i| {
            let pat = w.pat(&t.org, &t.owner, &format!("race {i}"));
            let (store, barrier) = (w.store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.create_pat(&pat, now).await
            })
        })
        .collect();
    let (mut ok, mut full) = (0, 0);
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(()) => ok += 1,
            Err(CreatePatError::TooManyActive) => full += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((ok, full), (12, 12));
    let active = w.store.list_pats(t.org.id, None).await.unwrap();
    assert_eq!(active.len(), MAX_ACTIVE_PATS as usize);
}
