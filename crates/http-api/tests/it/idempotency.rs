//! `http_api::idempotency` against a real store: reserve, in progress, release, replay,
//! mismatch, key scoping.

use crate::support::*;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use domain::access::{Credential, Principal, expand};
use domain::ids::TokenId;
use http_api::idempotency::{IdemStart, begin, replay_record};
use http_body_util::BodyExt;
use serde_json::json;

fn principal(h: &Harness, token: u128) -> Principal {
    Principal {
        organization_id: h.org,
        user_id: h.user,
        credential: Credential::Pat {
            token_id: TokenId(uuid::Uuid::from_u128(token)),
        },
        scopes: expand(["bookings:create"]).unwrap(),
        role: domain::organization::Role::Owner,
    }
}

fn key(k: &str) -> HeaderMap {
    let mut m = HeaderMap::new();
    m.insert("idempotency-key", HeaderValue::from_str(k).unwrap());
    m
}

#[tokio::test]
async fn reserve_conflict_release_replay() {
    let h = Harness::new().await;
    let p = principal(&h, 1);
    let body =
        json!({"start": "2026-05-20T10:00:00Z", "attendee": {"name": "A", "email": "a@b.co"}});
    let reordered: serde_json::Value = serde_json::from_str(
        r#"{ "attendee": {"email": "a@b.co", "name": "A"},  "start": "2026-05-20T10:00:00Z" }"#,
    )
    .unwrap();
    let path = "/v1/bookings";

    let Ok(IdemStart::Fresh(guard)) = begin(&h.state, &p, &key("k1"), "POST", path, &body).await
    else {
        panic!("first use must reserve")
    };
    assert_eq!(guard.key().key.key, "k1");
    assert_eq!(guard.key().owner, p.owner_key());

    // Same key while running.
    let e = begin(&h.state, &p, &key("k1"), "POST", path, &reordered)
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::CONFLICT, "idempotency_in_progress")
    );
    assert_eq!(e.headers["retry-after"], "1");

    // A failed attempt releases the key; the retry gets it again.
    guard.release().await;
    let Ok(IdemStart::Fresh(guard)) =
        begin(&h.state, &p, &key("k1"), "POST", path, &reordered).await
    else {
        panic!("released key must be reservable")
    };

    // Complete it (as the booking transaction would) and replay.
    let envelope = json!({"data": {"uid": "x", "version": 1}, "meta": {"request_id": "req_first"}});
    h.state
        .store
        .complete(
            guard.key(),
            &replay_record(StatusCode::CREATED, Some(1), &envelope),
        )
        .await
        .unwrap();
    guard.done();
    assert_eq!(h.state.reservations.open(), 0);
    let Ok(IdemStart::Replay(resp)) = begin(&h.state, &p, &key("k1"), "POST", path, &body).await
    else {
        panic!("completed key must replay")
    };
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["data"], json!({"uid": "x", "version": 1}));
    assert_ne!(v["meta"]["request_id"], "req_first");
    assert!(
        v["meta"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );

    // Same key, different body (or path).
    let e = begin(
        &h.state,
        &p,
        &key("k1"),
        "POST",
        path,
        &json!({"start": "other"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::CONFLICT, "idempotency_key_conflict")
    );
    let e = begin(
        &h.state,
        &p,
        &key("k1"),
        "POST",
        "/v1/bookings/u/cancel",
        &body,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "idempotency_key_conflict");

    // Another credential owner has its own key space.
    let other = principal(&h, 2);
    assert!(matches!(
        begin(
            &h.state,
            &other,
            &key("k1"),
            "POST",
            path,
            &json!({"start": "other"})
        )
        .await,
        Ok(IdemStart::Fresh(_))
    ));
}

#[tokio::test]
async fn missing_and_invalid_keys_reserve_nothing() {
    let h = Harness::new().await;
    let p = principal(&h, 1);
    let body = json!({});
    let e = begin(
        &h.state,
        &p,
        &HeaderMap::new(),
        "POST",
        "/v1/bookings",
        &body,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, "missing_idempotency_key")
    );
    let long = "k".repeat(256);
    let e = begin(&h.state, &p, &key(&long), "POST", "/v1/bookings", &body)
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert_eq!(e.details, json!({"header": "Idempotency-Key"}));
    let max = "k".repeat(255);
    assert!(matches!(
        begin(&h.state, &p, &key(&max), "POST", "/v1/bookings", &body).await,
        Ok(IdemStart::Fresh(_))
    ));
}

/// A guard dropped without `done` or `release` (its request future was cancelled) releases
/// the key on a spawned task; `Reservations::settled` waits for that release.
#[tokio::test]
async fn a_dropped_guard_releases_its_key() {
    let h = Harness::new().await;
    let p = principal(&h, 1);
    let body = json!({"start": "2026-05-20T10:00:00Z"});
    let path = "/v1/bookings";
    let Ok(IdemStart::Fresh(guard)) = begin(&h.state, &p, &key("k"), "POST", path, &body).await
    else {
        panic!("fresh key must reserve")
    };
    assert_eq!(h.state.reservations.open(), 1);
    drop(guard);
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        h.state.reservations.settled(),
    )
    .await
    .expect("the spawned release settles");
    let Ok(IdemStart::Fresh(_again)) = begin(&h.state, &p, &key("k"), "POST", path, &body).await
    else {
        panic!("a dropped reservation must be reservable again")
    };
}
