//! The harness: a fresh scratch SQLite store, one organization, one user, a settable clock,
//! and helpers to mint tokens and send requests.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use domain::access::expand;
use domain::booking_service::BookingService;
use domain::ids::{OrganizationId, TokenId, UserId};
use domain::organization::{Organization, Role, User, Username};
use domain::ports::{Clock, IdGen, PersonalAccessToken, Storage};
use domain::validate::Email;
use http_api::{ApiConfig, AppState};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// 2026-05-20T10:00:23Z: 23 s into an epoch minute, 37 s before it resets.
pub const START: i64 = 1_779_271_223;

#[derive(Clone)]
pub struct SetClock(Arc<Mutex<Timestamp>>);

impl SetClock {
    pub fn advance(&self, secs: i64) {
        let mut g = self.0.lock().unwrap();
        *g = g.checked_add(SignedDuration::from_secs(secs)).unwrap();
    }
}

impl Clock for SetClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

struct V7;

impl IdGen for V7 {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}

pub struct Harness {
    pub state: AppState,
    pub app: Router,
    pub clock: SetClock,
    pub org: OrganizationId,
    pub user: UserId,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_config(ApiConfig::default()).await
    }

    pub async fn with_config(config: ApiConfig) -> Self {
        let (state, clock) = state(config).await;
        let org = OrganizationId(uuid::Uuid::now_v7());
        let user = UserId(uuid::Uuid::now_v7());
        let now = state.clock.now();
        state
            .store
            .create_organization(&Organization {
                id: org,
                name: "Acme".into(),
                plan: Some("pro".into()),
                created_at: now,
            })
            .await
            .unwrap();
        state
            .store
            .create_user(&User {
                id: user,
                organization_id: org,
                username: Some(Username::parse(&format!("ada-{}", user.0.simple())).unwrap()),
                email: Email::parse("ada@example.com").unwrap(),
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                timezone: Some("Europe/London".into()),
                locale: Some("en".into()),
                avatar_url: None,
                role: Role::Owner,
                password_hash: None,
                created_at: now,
            })
            .await
            .unwrap();
        let app = http_api::app(state.clone());
        Self {
            state,
            app,
            clock,
            org,
            user,
        }
    }

    /// Mints a PAT for the user; returns its id and text.
    pub async fn mint(&self, scopes: &[&str], expires_at: Option<Timestamp>) -> (TokenId, String) {
        let new = auth::pat::generate(&self.state.pepper).unwrap();
        let id = TokenId(uuid::Uuid::now_v7());
        let pat = PersonalAccessToken {
            id,
            organization_id: self.org,
            user_id: self.user,
            name: format!("key {}", id.0),
            lookup: new.lookup.clone(),
            secret_hash: new.secret_hash.clone(),
            scopes: expand(scopes.iter().copied()).unwrap(),
            last_four: new.last_four.clone(),
            expires_at,
            revoked_at: None,
            created_at: self.state.clock.now(),
        };
        self.state
            .store
            .create_pat(&pat, self.state.clock.now())
            .await
            .unwrap();
        (id, new.token.expose_secret().to_owned())
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        send(&self.app, req).await
    }
}

/// A state over a fresh scratch store, and its clock (reading [`START`]).
pub async fn state(config: ApiConfig) -> (AppState, SetClock) {
    let store = store_sqlite::SqliteStore::connect("sqlite::memory:")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Storage> = Arc::new(store);
    let clock = SetClock(Arc::new(Mutex::new(Timestamp::from_second(START).unwrap())));
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let ids: Arc<dyn IdGen> = Arc::new(V7);
    let encoder: Arc<dyn domain::ports::EventEncoder> = Arc::new(
        api_types::webhook::WebhookEncoder::new(config.public_base_url.clone()),
    );
    let deps = BookingService::over(
        store.clone(),
        clock_dyn.clone(),
        ids.clone(),
        encoder.clone(),
    );
    let oauth = domain::oauth_service::OAuthService {
        store: store.clone(),
        directory: store.clone(),
        secrets: Arc::new(auth::oauth::OAuthTokens::new(auth::Pepper::new(
            b"test-pepper-test-pepper-test-pep".to_vec(),
        ))),
        passwords: Arc::new(http_api::oauth_password::Argon2Passwords),
        clock: clock_dyn.clone(),
        ids: ids.clone(),
    };
    let pepper = auth::Pepper::new(b"test-pepper-test-pepper-test-pep".to_vec());
    let webhooks = webhooks::service(
        store.clone(),
        clock_dyn.clone(),
        ids.clone(),
        pepper.expose(),
        webhooks::GuardPolicy::default(),
        Arc::new(webhooks::SystemLookup),
        clock_dyn.clone(),
    )
    .unwrap();
    let services = http_api::state::Services::new(
        store.clone(),
        clock_dyn.clone(),
        ids.clone(),
        encoder,
        pepper.clone(),
    );
    let state = AppState::new(http_api::state::AppStateInner {
        webhooks,
        oauth,
        config: Arc::new(config),
        store,
        clock: clock_dyn,
        ids,
        bookings: deps,
        services,
        pepper,
        shared_counter: None,
        limiter: Arc::default(),
        draining: Arc::new(AtomicBool::new(false)),
        auth_cache: http_api::auth_cache::AuthCache::new(),
        reservations: Default::default(),
        metrics: None,
    });
    (state, clock)
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("missing header {name}: {:?}", self.headers))
    }

    /// Asserts the error envelope's code and that `X-Request-Id` equals its `request_id`.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{}", self.text);
        assert!(v["error"]["message"].is_string());
        assert!(v["error"]["details"].is_object());
        assert_eq!(v["error"]["request_id"], self.header("x-request-id"));
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// A request from `peer`, with an optional bearer token.
pub fn req(method: &str, path: &str, token: Option<&str>) -> Request<Body> {
    req_from(method, path, token, "192.0.2.10:5555")
}

pub fn req_from(method: &str, path: &str, token: Option<&str>, peer: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let mut r = b.body(Body::empty()).unwrap();
    let addr: SocketAddr = peer.parse().unwrap();
    r.extensions_mut().insert(ConnectInfo(addr));
    r
}
