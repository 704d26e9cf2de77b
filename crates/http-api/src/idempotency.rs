//! `Idempotency-Key` handling for the four booking writes (§2.8, §6.3).
//!
//! A handler calls [`begin`] before doing any work. The key is scoped by (organization,
//! credential owner, key) and bound to a fingerprint of the request: SHA-256 (hex) of the
//! method, the path and the canonical JSON of the body (object keys sorted, no whitespace), so
//! key order and whitespace never matter. Outcomes:
//! - first use → [`IdemStart::Fresh`]: the handler runs the domain service with the guard's key;
//!   the service stores the successful response (encoded by [`replay_record`] into the opaque
//!   [`ReplayRecord`] the domain attaches to its unit of work) in the booking transaction, and
//!   the handler calls [`IdemGuard::done`]; on any error it calls [`IdemGuard::release`] so the
//!   key can be retried — only successes are remembered. The answer waits for that release at
//!   most [`RELEASE_WAIT`] (a release stuck behind an exhausted pool finishes on its own task).
//!   A request dropped before either (client gone, request timeout, shutdown) drops its guard,
//!   whose `Drop` spawns the release: a retry with the same key is never stuck behind
//!   `idempotency_in_progress` until the lease expires.
//!   [`Reservations`] counts reservations not yet settled, so tests and shutdown can wait for
//!   those releases. When no release can happen (the process was killed, the store refused the
//!   release), the reservation is abandoned and another request takes the key over once its
//!   lease ends: [`crate::ApiConfig::idempotency_lease`], the request timeout plus the pool
//!   acquire and lock timeouts, never minutes;
//! - every reservation carries the random nonce `reserve` returned; the guard completes and
//!   releases with it, so a late request whose key was taken over cannot delete or complete
//!   the new owner's reservation. Its booking transaction fails and commits nothing, and it
//!   answers `409 idempotency_in_progress` (the key is another request's now; a retry replays
//!   that request's outcome or takes the key) — see [`ApiError::internal`];
//! - same key and body again → [`IdemStart::Replay`]: the stored status, headers and body, with
//!   `meta.request_id` rewritten to the current request's id (so `X-Request-Id` still equals
//!   the body's `request_id`);
//! - same key still running → 409 `idempotency_in_progress` with `Retry-After: 1`;
//! - same key, different body → 409 `idempotency_key_conflict`.
//!
//! Architecture Invariant: a request without a usable key performs nothing.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::access::Principal;
use domain::ports::{IdempotencyKey, IdempotencyStore, ReplayRecord, Reservation, ReservedKey};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::watch;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// Longest accepted key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// How a booking write starts.
pub enum IdemStart {
    /// The key is reserved for this request.
    Fresh(IdemGuard),
    /// The same request completed before: send this response.
    Replay(Response),
}

impl std::fmt::Debug for IdemStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fresh(g) => f.debug_tuple("Fresh").field(g).finish(),
            Self::Replay(r) => f.debug_tuple("Replay").field(&r.status()).finish(),
        }
    }
}

/// The reservations of this process that are not yet settled (completed, released, or their
/// release after a drop finished). Cloning shares the count.
#[derive(Clone, Debug)]
pub struct Reservations {
    open: Arc<watch::Sender<usize>>,
}

impl Default for Reservations {
    fn default() -> Self {
        Self {
            open: Arc::new(watch::channel(0).0),
        }
    }
}

impl Reservations {
    /// How many reservations are not yet settled.
    pub fn open(&self) -> usize {
        *self.open.borrow()
    }

    /// Waits until at least `n` reservations are open (e.g. a request reached its write).
    pub async fn wait_open(&self, n: usize) {
        let mut rx = self.open.subscribe();
        // The sender lives in `self`, so the channel cannot close while waiting.
        let _ = rx.wait_for(|open| *open >= n).await;
    }

    /// Waits until every reservation is settled, including releases spawned by dropped
    /// requests.
    pub async fn settled(&self) {
        let mut rx = self.open.subscribe();
        let _ = rx.wait_for(|open| *open == 0).await;
    }

    fn hold(&self) -> Held {
        self.open.send_modify(|n| *n += 1);
        Held(self.open.clone())
    }
}

/// One open reservation in [`Reservations`]; dropping it settles it.
#[derive(Debug)]
struct Held(Arc<watch::Sender<usize>>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// A reserved key. The domain service completes it in its transaction and the handler calls
/// [`IdemGuard::done`]; on failure the handler calls [`IdemGuard::release`]. Dropped without
/// either (the request future was cancelled), it releases the key on a spawned task.
pub struct IdemGuard {
    key: ReservedKey,
    store: Arc<dyn IdempotencyStore>,
    /// `None` once settled by `done` or `release`.
    held: Option<Held>,
}

impl std::fmt::Debug for IdemGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdemGuard")
            .field("key", &self.key)
            .field("settled", &self.held.is_none())
            .finish()
    }
}

impl IdemGuard {
    /// Holds the reservation of `key`, just reserved.
    fn new(state: &AppState, key: ReservedKey) -> Self {
        Self {
            key,
            store: state.store.clone(),
            held: Some(state.reservations.hold()),
        }
    }

    /// The scoped key and its reservation nonce, for the domain service's `Idempotent`.
    pub fn key(&self) -> &ReservedKey {
        &self.key
    }

    /// The write committed with its replay record: nothing to release.
    pub fn done(mut self) {
        self.held = None;
    }

    /// Forgets the reservation so the same key can be retried: waits up to [`RELEASE_WAIT`]
    /// for it, then lets the release finish on its own task. A release that waits for a pooled
    /// connection (the pool is exhausted, the very failure being answered) never delays the
    /// answer by another acquire timeout; meanwhile a retry gets `409 idempotency_in_progress`
    /// with `Retry-After: 1`.
    pub async fn release(mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let task = spawn_release(self.store.clone(), self.key.clone(), held);
        // On timeout the task goes on detached; it settles `held` when it ends.
        let _ = tokio::time::timeout(RELEASE_WAIT, task).await;
    }
}

/// How long an error answer waits for its key's release before it goes out.
pub const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Releases `key` on a task of the current runtime, settling `held` when done.
fn spawn_release(
    store: Arc<dyn IdempotencyStore>,
    key: ReservedKey,
    held: Held,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        release(store.as_ref(), &key).await;
        drop(held);
    })
}

impl Drop for IdemGuard {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::warn!("idempotency reservation dropped outside a runtime; its lease expires");
            return;
        }
        spawn_release(self.store.clone(), self.key.clone(), held);
    }
}

/// Releases `key` (only while it is still this request's reservation). A storage failure is
/// logged: the reservation then expires after its lease.
async fn release(store: &dyn IdempotencyStore, key: &ReservedKey) {
    if let Err(e) = store.release(key).await {
        tracing::warn!(error = ?e, "could not release an idempotency reservation");
    }
}

/// Reads and checks the key, reserves it and decides how the request proceeds.
pub async fn begin(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<IdemStart, ApiError> {
    let raw = read_key(headers)?;
    let key = IdempotencyKey {
        organization_id: principal.organization_id,
        owner: principal.owner_key(),
        key: raw,
    };
    let fp = fingerprint(method, path, body);
    let lease = state.config.idempotency_lease();
    match state
        .store
        .reserve(&key, &fp, state.clock.now(), lease)
        .await?
    {
        Reservation::Reserved(nonce) => Ok(IdemStart::Fresh(IdemGuard::new(
            state,
            ReservedKey { key, nonce },
        ))),
        Reservation::Replay(record) => Ok(IdemStart::Replay(replay(&record))),
        Reservation::InProgress => Err(ApiError::idempotency_in_progress()),
        Reservation::Mismatch => Err(ApiError::conflict(
            "idempotency_key_conflict",
            "This Idempotency-Key was already used with a different request body",
        )),
    }
}

/// How a write of the booking pages starts: the key comes from the form (scoped by the
/// page's own owner, e.g. the browser's CSRF cookie), and a replay is handed back as stored
/// (the page renders it itself, from the [`ReplayRecord`] it encoded).
pub enum FormStart {
    Fresh(IdemGuard),
    Replay(ReplayRecord),
    InProgress,
    Mismatch,
}

/// Reserves `key` for a request whose canonical body hashes to `fingerprint` (booking pages).
pub async fn begin_form(
    state: &AppState,
    key: IdempotencyKey,
    fingerprint: &str,
) -> Result<FormStart, domain::ports::StoreError> {
    Ok(
        match state
            .store
            .reserve(
                &key,
                fingerprint,
                state.clock.now(),
                state.config.idempotency_lease(),
            )
            .await?
        {
            Reservation::Reserved(nonce) => {
                FormStart::Fresh(IdemGuard::new(state, ReservedKey { key, nonce }))
            }
            Reservation::Replay(record) => FormStart::Replay(record),
            Reservation::InProgress => FormStart::InProgress,
            Reservation::Mismatch => FormStart::Mismatch,
        },
    )
}

/// The `Idempotency-Key` value: missing → 400 `missing_idempotency_key`; empty, longer than
/// 255 characters or not visible ASCII/UTF-8 → 400 `invalid_request` naming the header.
pub fn read_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Err(ApiError::bad_request(
            "missing_idempotency_key",
            "The Idempotency-Key header is required for this request",
        ));
    };
    let invalid = |why: &str| {
        ApiError::bad_request(
            "invalid_request",
            format!("The Idempotency-Key header {why}"),
        )
        .with_details(json!({ "header": HEADER }))
    };
    let s = value
        .to_str()
        .map_err(|_| invalid("must be printable ASCII"))?;
    if s.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if s.chars().count() > MAX_KEY_CHARS {
        return Err(invalid("must be at most 255 characters"));
    }
    Ok(s.to_owned())
}

/// SHA-256 (lowercase hex) of `method`, `path` and the canonical body, newline separated.
pub fn fingerprint(method: &str, path: &str, body: &Value) -> String {
    let mut input = String::with_capacity(64);
    input.push_str(&method.to_ascii_uppercase());
    input.push('\n');
    input.push_str(path);
    input.push('\n');
    write_canonical(body, &mut input);
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace, strings and numbers
/// as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A response as kept for replay, encoded into the opaque [`ReplayRecord`] text.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Stored {
    status: u16,
    /// Headers to replay (e.g. `etag`); names lowercase.
    headers: Vec<(String, String)>,
    /// The full envelope.
    body: Value,
}

/// The replay record of a response: `body` is the full envelope value; `etag_version` adds
/// `ETag: "<version>"`.
pub fn replay_record(status: StatusCode, etag_version: Option<i64>, body: &Value) -> ReplayRecord {
    let mut headers = Vec::new();
    if let Some(v) = etag_version {
        headers.push(("etag".to_owned(), format!("\"{v}\"")));
    }
    let stored = Stored {
        status: status.as_u16(),
        headers,
        body: body.clone(),
    };
    ReplayRecord(json!(stored).to_string())
}

/// Rebuilds a stored response, with the current request id in `meta.request_id`.
pub fn replay(record: &ReplayRecord) -> Response {
    let mut stored = match serde_json::from_str::<Stored>(&record.0) {
        Ok(s) => s,
        Err(e) => {
            return ApiError::internal(anyhow::anyhow!("unreadable idempotent replay record: {e}"))
                .into_response();
        }
    };
    rewrite_request_id(&mut stored.body, &crate::envelope::current_request_id());
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, axum::Json(stored.body)).into_response();
    for (name, value) in &stored.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// Sets `meta.request_id` (success envelope) or `error.request_id` (error envelope).
fn rewrite_request_id(body: &mut Value, request_id: &str) {
    for section in ["meta", "error"] {
        if let Some(Value::Object(m)) = body.get_mut(section) {
            m.insert("request_id".into(), Value::String(request_id.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order_and_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{ "b": 1, "a": {"y": [1, {"d":2,"c":3}], "x": "é\n"} }"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":"é\n","y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"é\n","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            fingerprint("POST", "/v1/bookings", &a),
            fingerprint("post", "/v1/bookings", &b)
        );
    }

    #[test]
    fn fingerprint_depends_on_method_path_and_body() {
        let body = json!({"start": "2026-05-20T10:00:00Z"});
        let base = fingerprint("POST", "/v1/bookings", &body);
        assert_eq!(base.len(), 64);
        assert!(
            base.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(base, fingerprint("PATCH", "/v1/bookings", &body));
        assert_ne!(base, fingerprint("POST", "/v1/bookings/x/cancel", &body));
        assert_ne!(
            base,
            fingerprint(
                "POST",
                "/v1/bookings",
                &json!({"start": "2026-05-20T10:00:01Z"})
            )
        );
        // Array order matters; numbers keep their type.
        assert_ne!(
            fingerprint("POST", "/p", &json!([1, 2])),
            fingerprint("POST", "/p", &json!([2, 1]))
        );
        assert_ne!(
            fingerprint("POST", "/p", &json!({"n": 1})),
            fingerprint("POST", "/p", &json!({"n": "1"}))
        );
    }

    #[test]
    fn fingerprint_of_empty_object_is_sha256_of_known_input() {
        let expected = ring::digest::digest(&ring::digest::SHA256, b"POST\n/v1/x\n{}");
        let hex: String = expected
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(fingerprint("POST", "/v1/x", &json!({})), hex);
    }

    /// An idempotency store whose `release` waits until `gate` gets a permit.
    struct GatedRelease {
        gate: tokio::sync::Semaphore,
        released: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl IdempotencyStore for GatedRelease {
        async fn reserve(
            &self,
            _: &IdempotencyKey,
            _: &str,
            _: jiff::Timestamp,
            _: jiff::SignedDuration,
        ) -> Result<Reservation, domain::ports::StoreError> {
            unreachable!("the guard never reserves")
        }
        async fn complete(
            &self,
            _: &ReservedKey,
            _: &ReplayRecord,
        ) -> Result<(), domain::ports::StoreError> {
            unreachable!("the guard never completes")
        }
        async fn release(&self, _: &ReservedKey) -> Result<(), domain::ports::StoreError> {
            self.gate.acquire().await.expect("gate open").forget();
            self.released
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
        async fn purge_expired(
            &self,
            _: jiff::Timestamp,
            _: u32,
        ) -> Result<u64, domain::ports::StoreError> {
            unreachable!("the guard never purges")
        }
    }

    fn gated_guard(permits: usize) -> (IdemGuard, Arc<GatedRelease>, Reservations) {
        let store = Arc::new(GatedRelease {
            gate: tokio::sync::Semaphore::new(permits),
            released: Default::default(),
        });
        let reservations = Reservations::default();
        let key = ReservedKey {
            key: IdempotencyKey {
                organization_id: domain::ids::OrganizationId(uuid::Uuid::nil()),
                owner: "pat:t".into(),
                key: "k".into(),
            },
            nonce: domain::ports::ReservationNonce(uuid::Uuid::nil()),
        };
        let guard = IdemGuard {
            key,
            store: store.clone(),
            held: Some(reservations.hold()),
        };
        (guard, store, reservations)
    }

    /// A release that answers at once is done when `release` returns: a retry finds the key
    /// free.
    #[tokio::test]
    async fn a_quick_release_is_done_before_the_answer() {
        let (guard, store, reservations) = gated_guard(1);
        guard.release().await;
        assert_eq!(store.released.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(reservations.open(), 0);
    }

    /// A release stuck (behind an exhausted pool) delays the answer by at most `RELEASE_WAIT`
    /// and still happens afterwards on its own task.
    #[tokio::test]
    async fn a_stuck_release_delays_the_answer_at_most_release_wait_and_finishes_later() {
        let (guard, store, reservations) = gated_guard(0);
        tokio::time::timeout(RELEASE_WAIT * 8, guard.release())
            .await
            .expect("release() returns although the store's release is stuck");
        assert_eq!(store.released.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(reservations.open(), 1, "the release is still under way");
        store.gate.add_permits(1);
        tokio::time::timeout(std::time::Duration::from_secs(10), reservations.settled())
            .await
            .expect("the detached release settles");
        assert_eq!(store.released.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    fn headers(v: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = v {
            h.insert(HEADER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn key_header_rules() {
        assert_eq!(
            read_key(&headers(None)).unwrap_err().code,
            "missing_idempotency_key"
        );
        let e = read_key(&headers(Some(""))).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        assert_eq!(e.details, json!({"header": "Idempotency-Key"}));
        let long = "k".repeat(256);
        assert_eq!(
            read_key(&headers(Some(&long))).unwrap_err().code,
            "invalid_request"
        );
        let max = "k".repeat(255);
        assert_eq!(read_key(&headers(Some(&max))).unwrap(), max);
        assert_eq!(read_key(&headers(Some("a-b_c"))).unwrap(), "a-b_c");
    }

    #[test]
    fn stored_responses_replay_with_the_current_request_id() {
        let body = json!({"data": {"uid": "u"}, "meta": {"request_id": "req_old"}});
        let record = replay_record(StatusCode::CREATED, Some(3), &body);
        let stored: Stored = serde_json::from_str(&record.0).unwrap();
        assert_eq!(stored.status, 201);
        assert_eq!(
            stored.headers,
            vec![("etag".to_owned(), "\"3\"".to_owned())]
        );
        assert_eq!(stored.body, body);
        let resp = replay(&record);
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["etag"], "\"3\"");
        let mut v = body.clone();
        rewrite_request_id(&mut v, "req_new");
        assert_eq!(v["meta"]["request_id"], "req_new");
        assert_eq!(v["data"]["uid"], "u");
    }
}
