//! OAuth storage ([`OAuthStore`]): clients round-trip and revoke, sign-in finds users across
//! organizations by e-mail case-insensitively, codes are single use (one winner under
//! concurrency), a revoked family revokes every token in it — including tokens inserted later —,
//! refresh rotation has exactly one winner, and revoking a client revokes its tokens only.

use crate::fixtures::{Tenant, World, mins, scopes};
use domain::oauth::*;
use domain::ports::*;
use jiff::SignedDuration;
use std::sync::Arc;

fn client(w: &World, id: &str, kind: ClientKind) -> OAuthClient {
    OAuthClient {
        client_id: id.to_owned(),
        name: format!("App {id}"),
        kind,
        secret_hash: (kind == ClientKind::Confidential).then(|| vec![1, 2, 3]),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
        allowed_scopes: scopes(&["user:read", "bookings:read"]),
        dynamic: kind == ClientKind::Public,
        created_at: w.now(),
        revoked_at: None,
    }
}

fn code(w: &World, t: &Tenant, client_id: &str) -> AuthorizationCode {
    let id = w.id();
    AuthorizationCode {
        lookup: format!("c{}", &id.simple().to_string()[20..]),
        secret_hash: id.as_bytes().to_vec(),
        client_id: client_id.to_owned(),
        organization_id: t.org.id,
        user_id: t.owner.id,
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_defaulted: false,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        scopes: scopes(&["user:read"]),
        family_id: w.id(),
        created_at: w.now(),
        expires_at: w.now() + mins(10),
        used_at: None,
    }
}

/// A world with tenant "acme" and a stored confidential client "app".
async fn with_app(store: Arc<dyn Storage>) -> (World, Tenant) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    w.store
        .create_client(&client(&w, "app", ClientKind::Confidential))
        .await
        .unwrap();
    (w, t)
}

fn token(w: &World, c: &AuthorizationCode, kind: TokenKind) -> OAuthToken {
    let id = w.id();
    OAuthToken {
        lookup: format!("t{}", &id.simple().to_string()[20..]),
        kind,
        secret_hash: id.as_bytes().to_vec(),
        family_id: c.family_id,
        client_id: c.client_id.clone(),
        organization_id: c.organization_id,
        user_id: c.user_id,
        scopes: c.scopes.clone(),
        created_at: w.now(),
        expires_at: w.now() + SignedDuration::from_hours(1),
        revoked_at: None,
        rotated_at: None,
    }
}

async fn find(w: &World, lookup: &str) -> OAuthToken {
    w.store.find_token(lookup).await.unwrap().unwrap()
}

/// Clients round-trip; `client_id` is unique; secrets rotate only on unrevoked clients; a
/// revoked client is still readable with `revoked_at`.
pub async fn oauth_clients_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = client(&w, "client-a", ClientKind::Confidential);
    w.store.create_client(&a).await.unwrap();
    w.clock.advance(mins(1));
    let b = client(&w, "client-b", ClientKind::Public);
    w.store.create_client(&b).await.unwrap();
    assert_eq!(
        w.store.get_client("client-a").await.unwrap().as_ref(),
        Some(&a)
    );
    assert_eq!(w.store.get_client("nope").await.unwrap(), None);
    assert_eq!(w.store.list_clients().await.unwrap(), vec![a.clone(), b]);
    assert!(matches!(
        w.store.create_client(&a).await,
        Err(CreateError::Duplicate { .. })
    ));

    assert!(
        w.store
            .set_client_secret("client-a", &[9, 9])
            .await
            .unwrap()
    );
    let got = w.store.get_client("client-a").await.unwrap().unwrap();
    assert_eq!(got.secret_hash, Some(vec![9, 9]));
    assert!(!w.store.set_client_secret("nope", &[1]).await.unwrap());

    assert!(w.store.revoke_client("client-a", w.now()).await.unwrap());
    assert!(!w.store.revoke_client("client-a", w.now()).await.unwrap());
    assert!(!w.store.revoke_client("nope", w.now()).await.unwrap());
    let got = w.store.get_client("client-a").await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(w.now()));
    assert!(!w.store.set_client_secret("client-a", &[7]).await.unwrap());
}

/// Sign-in reads users of every organization by e-mail, case-insensitively.
pub async fn users_by_email_cross_tenants_case_insensitively(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_tenant("a").await;
    let b = w.create_tenant("b").await;
    let mut in_b = w.user(&b.org, "twin");
    in_b.email = a.owner.email.clone();
    w.store.create_user(&in_b).await.unwrap();
    let upper = a.owner.email.as_str().to_uppercase();
    let mut found: Vec<_> = w
        .store
        .users_by_email(&upper)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    found.sort_by_key(|id| id.0);
    let mut want = vec![a.owner.id, in_b.id];
    want.sort_by_key(|id| id.0);
    assert_eq!(found, want);
    assert!(
        w.store
            .users_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_empty()
    );
}

/// A code round-trips and redeems once; every later use is `Replayed`; under concurrency
/// exactly one caller gets `First`.
pub async fn codes_are_single_use(store: Arc<dyn Storage>) {
    let (w, t) = with_app(store).await;
    let c = code(&w, &t, "app");
    w.store.create_code(&c).await.unwrap();
    assert_eq!(
        w.store.find_code(&c.lookup).await.unwrap().as_ref(),
        Some(&c)
    );
    assert_eq!(w.store.find_code("nope").await.unwrap(), None);
    assert_eq!(w.store.redeem_code("nope", w.now()).await.unwrap(), None);
    assert_eq!(
        w.store.redeem_code(&c.lookup, w.now()).await.unwrap(),
        Some(Redemption::First)
    );
    assert_eq!(
        w.store.find_code(&c.lookup).await.unwrap().unwrap().used_at,
        Some(w.now())
    );
    assert_eq!(
        w.store.redeem_code(&c.lookup, w.now()).await.unwrap(),
        Some(Redemption::Replayed)
    );

    let c2 = code(&w, &t, "app");
    w.store.create_code(&c2).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = w.store.clone();
            let lookup = c2.lookup.clone();
            let now = w.now();
            tokio::spawn(async move { store.redeem_code(&lookup, now).await.unwrap() })
        })
        .collect();
    let mut firsts = 0;
    for r in racers {
        match r.await.unwrap() {
            Some(Redemption::First) => firsts += 1,
            Some(Redemption::Replayed) => {}
            None => panic!("the code vanished"),
        }
    }
    assert_eq!(firsts, 1);
}

/// Revoking a family revokes every token in it, and tokens inserted into it later; other
/// families are untouched. Revoking one token revokes only that one, once.
pub async fn family_revocation_covers_every_token(store: Arc<dyn Storage>) {
    let (w, t) = with_app(store).await;
    let c = code(&w, &t, "app");
    let other = code(&w, &t, "app");
    w.store.create_code(&c).await.unwrap();
    w.store.create_code(&other).await.unwrap();
    let at = token(&w, &c, TokenKind::Access);
    let rt = token(&w, &c, TokenKind::Refresh);
    let kept = token(&w, &other, TokenKind::Access);
    w.store
        .insert_tokens(&[at.clone(), rt.clone()])
        .await
        .unwrap();
    w.store
        .insert_tokens(std::slice::from_ref(&kept))
        .await
        .unwrap();
    assert_eq!(find(&w, &at.lookup).await, at);
    assert_eq!(find(&w, &rt.lookup).await, rt);
    assert_eq!(w.store.find_token("nope").await.unwrap(), None);

    w.clock.advance(mins(1));
    let revoked_at = w.now();
    w.store
        .revoke_family(c.family_id, revoked_at)
        .await
        .unwrap();
    assert_eq!(find(&w, &at.lookup).await.revoked_at, Some(revoked_at));
    assert_eq!(find(&w, &rt.lookup).await.revoked_at, Some(revoked_at));
    assert_eq!(find(&w, &kept.lookup).await.revoked_at, None);
    w.clock.advance(mins(1));
    let late = token(&w, &c, TokenKind::Access);
    w.store
        .insert_tokens(std::slice::from_ref(&late))
        .await
        .unwrap();
    assert!(find(&w, &late.lookup).await.revoked_at.is_some());

    assert!(w.store.revoke_token(&kept.lookup, w.now()).await.unwrap());
    assert!(!w.store.revoke_token(&kept.lookup, w.now()).await.unwrap());
    assert!(!w.store.revoke_token("nope", w.now()).await.unwrap());
    assert_eq!(find(&w, &kept.lookup).await.revoked_at, Some(w.now()));
}

/// A refresh token rotates once: one winner among concurrent callers, successors inserted only
/// for it; a revoked refresh token never rotates.
pub async fn refresh_rotation_has_one_winner(store: Arc<dyn Storage>) {
    let (w, t) = with_app(store).await;
    let c = code(&w, &t, "app");
    w.store.create_code(&c).await.unwrap();
    let rt = token(&w, &c, TokenKind::Refresh);
    w.store
        .insert_tokens(std::slice::from_ref(&rt))
        .await
        .unwrap();
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let successors = vec![
                token(&w, &c, TokenKind::Access),
                token(&w, &c, TokenKind::Refresh),
            ];
            let store = w.store.clone();
            let lookup = rt.lookup.clone();
            let now = w.now();
            tokio::spawn(async move {
                let won = store
                    .rotate_refresh(&lookup, now, &successors)
                    .await
                    .unwrap();
                (won, successors)
            })
        })
        .collect();
    let mut winners = 0;
    for r in racers {
        let (won, successors) = r.await.unwrap();
        for s in &successors {
            let stored = w.store.find_token(&s.lookup).await.unwrap();
            assert_eq!(
                stored.is_some(),
                won,
                "successors exist only for the winner"
            );
        }
        winners += usize::from(won);
    }
    assert_eq!(winners, 1);
    assert_eq!(find(&w, &rt.lookup).await.rotated_at, Some(w.now()));

    let rt2 = token(&w, &c, TokenKind::Refresh);
    let other = code(&w, &t, "app");
    w.store.create_code(&other).await.unwrap();
    let rt3 = token(&w, &other, TokenKind::Refresh);
    w.store
        .insert_tokens(std::slice::from_ref(&rt3))
        .await
        .unwrap();
    assert!(w.store.revoke_token(&rt3.lookup, w.now()).await.unwrap());
    assert!(
        !w.store
            .rotate_refresh(&rt3.lookup, w.now(), std::slice::from_ref(&rt2))
            .await
            .unwrap()
    );
    assert_eq!(w.store.find_token(&rt2.lookup).await.unwrap(), None);
}

/// Revoking a client revokes every token issued to it (they read as revoked), not another
/// client's.
pub async fn revoking_a_client_revokes_its_tokens(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let t = w.create_tenant("acme").await;
    for id in ["gone", "kept"] {
        w.store
            .create_client(&client(&w, id, ClientKind::Confidential))
            .await
            .unwrap();
    }
    let cg = code(&w, &t, "gone");
    let ck = code(&w, &t, "kept");
    w.store.create_code(&cg).await.unwrap();
    w.store.create_code(&ck).await.unwrap();
    let g = token(&w, &cg, TokenKind::Access);
    let k = token(&w, &ck, TokenKind::Access);
    w.store
        .insert_tokens(std::slice::from_ref(&g))
        .await
        .unwrap();
    w.store
        .insert_tokens(std::slice::from_ref(&k))
        .await
        .unwrap();
    w.clock.advance(mins(1));
    assert!(w.store.revoke_client("gone", w.now()).await.unwrap());
    assert_eq!(find(&w, &g.lookup).await.revoked_at, Some(w.now()));
    assert_eq!(find(&w, &k.lookup).await.revoked_at, None);
}
