//! Fixed-window rate limits for `/v1/*` (§2.4, §6.3, §7.3).
//!
//! Windows are 60 seconds aligned to epoch minutes: a request at instant `t` (epoch seconds)
//! counts in the window starting at `floor(t / 60) * 60`, which resets at `start + 60` — a hard
//! boundary, not a sliding penalty. Buckets, independent of each other:
//! - `pat:<token id>`: [`ApiConfig::authenticated_per_minute`] (120),
//! - `oauth:<client id>:<organization id>`: the same limit,
//! - `anonymous:<client ip>`: [`ApiConfig::anonymous_per_minute`] (30) — requests without a
//!   valid token, including every 401, and the anonymous paths outside `/v1`: `/.well-known/*`,
//!   `/openapi.*` (and unknown `/v1/oauth/*` paths);
//! - `page_view:<client ip>` and `page_submit:<client ip>`: the public booking pages' views
//!   (GET, 120) and form submissions (POST, 10), `[pages]` in the configuration — their own
//!   buckets, so browsing a booking page never uses up an API client's anonymous allowance.
//! - the OAuth endpoints' own per-IP buckets (§2.4, §5.1): `oauth_authorize:<ip>` 30 (GET and
//!   the form POSTs), `oauth_token:<ip>` 60, `oauth_revoke:<ip>` 60, `oauth_introspect:<ip>`
//!   120, `oauth_register:<ip>` 5 ([`BucketKind::fixed_limit`]).
//!
//! The operations endpoints (`/healthz`, `/readyz`, `/metrics`) are not limited.
//!
//! Counters live in this process ([`RateLimiter`]) or, when several servers share the load, in
//! [`AppState::shared_counter`]. If the shared counter fails the limiter fails open: the request
//! is allowed, a warning is logged and the headers fall back to the in-process count.
//!
//! Every response carries (example: a PAT, 3 requests into a window resetting in 37 s):
//! ```text
//! X-RateLimit-Limit: 120
//! X-RateLimit-Remaining: 117
//! X-RateLimit-Reset: 1779271260          (epoch seconds of the window's end)
//! RateLimit-Policy: "pat";q=120;w=60     (draft-ietf-httpapi-ratelimit-headers, structured fields)
//! RateLimit: "pat";r=117;t=37            (r = remaining, t = seconds until reset, 1..=60)
//! ```
//! The policy name is the bucket kind (`pat`, `oauth`, `anonymous`), as in `details.bucket`.
//!
//! [`ApiConfig::authenticated_per_minute`]: crate::state::ApiConfig::authenticated_per_minute
//! [`ApiConfig::anonymous_per_minute`]: crate::state::ApiConfig::anonymous_per_minute
//! [`AppState::shared_counter`]: crate::state::AppState::shared_counter

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use domain::access::{Credential, Principal};
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Window length in seconds.
pub const WINDOW_SECONDS: i64 = 60;

/// Start (epoch seconds) of the window containing `now_secs`.
pub fn window_start(now_secs: i64) -> i64 {
    now_secs.div_euclid(WINDOW_SECONDS) * WINDOW_SECONDS
}

/// The kind of a bucket: its policy name and `details.bucket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    Pat,
    OAuth,
    Anonymous,
    OAuthAuthorize,
    OAuthToken,
    OAuthRevoke,
    OAuthIntrospect,
    OAuthRegister,
    PageView,
    PageSubmit,
}

impl BucketKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pat => "pat",
            Self::OAuth => "oauth",
            Self::Anonymous => "anonymous",
            Self::OAuthAuthorize => "oauth_authorize",
            Self::OAuthToken => "oauth_token",
            Self::OAuthRevoke => "oauth_revoke",
            Self::OAuthIntrospect => "oauth_introspect",
            Self::OAuthRegister => "oauth_register",
            Self::PageView => "page_view",
            Self::PageSubmit => "page_submit",
        }
    }

    /// The contract's fixed per-IP limit of an OAuth endpoint bucket (§2.4); `None` for the
    /// configurable buckets.
    pub fn fixed_limit(&self) -> Option<u64> {
        match self {
            Self::Pat | Self::OAuth | Self::Anonymous | Self::PageView | Self::PageSubmit => None,
            Self::OAuthAuthorize => Some(30),
            Self::OAuthToken | Self::OAuthRevoke => Some(60),
            Self::OAuthIntrospect => Some(120),
            Self::OAuthRegister => Some(5),
        }
    }

    /// The per-IP bucket of an unauthenticated path outside the `/v1` guard: an OAuth
    /// endpoint's own bucket, the anonymous bucket for discovery and the OpenAPI document, or
    /// `None` (not limited: the operations endpoints).
    pub fn for_unguarded_path(path: &str) -> Option<Self> {
        Some(match path {
            "/v1/oauth/authorize" => Self::OAuthAuthorize,
            "/v1/oauth/token" => Self::OAuthToken,
            "/v1/oauth/revoke" => Self::OAuthRevoke,
            "/v1/oauth/introspect" => Self::OAuthIntrospect,
            "/v1/oauth/register" => Self::OAuthRegister,
            p if p.starts_with("/v1/oauth/")
                || p.starts_with("/.well-known/")
                || p.starts_with("/openapi.") =>
            {
                Self::Anonymous
            }
            _ => return None,
        })
    }
}

/// One counter: its kind and full key (e.g. `pat:0190…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub kind: BucketKind,
    pub key: String,
}

impl Bucket {
    /// The bucket of an authenticated caller.
    pub fn for_principal(p: &Principal) -> Self {
        match &p.credential {
            Credential::Pat { token_id } => Self {
                kind: BucketKind::Pat,
                key: format!("pat:{token_id}"),
            },
            Credential::OAuth { client_id } => Self {
                kind: BucketKind::OAuth,
                key: format!("oauth:{client_id}:{}", p.organization_id),
            },
        }
    }

    /// The bucket of an anonymous (or failed-auth) caller; `None` = address unknown.
    pub fn anonymous(ip: Option<IpAddr>) -> Self {
        Self::per_ip(BucketKind::Anonymous, ip)
    }

    /// A booking-page bucket (`PageView` or `PageSubmit`) of a client address.
    pub fn page(kind: BucketKind, ip: Option<IpAddr>) -> Self {
        Self::per_ip(kind, ip)
    }

    /// A bucket of `kind` keyed by client address (`<kind>:<ip>`); `None` = address unknown.
    pub fn per_ip(kind: BucketKind, ip: Option<IpAddr>) -> Self {
        let key = match ip {
            Some(ip) => format!("{}:{ip}", kind.as_str()),
            None => format!("{}:unknown", kind.as_str()),
        };
        Self { kind, key }
    }

    /// The configured (or, for the OAuth endpoints, fixed) limit of this bucket.
    pub fn limit(&self, config: &crate::state::ApiConfig) -> u64 {
        match self.kind {
            BucketKind::Pat | BucketKind::OAuth => config.authenticated_per_minute,
            BucketKind::Anonymous => config.anonymous_per_minute,
            BucketKind::PageView => config.pages.views_per_minute,
            BucketKind::PageSubmit => config.pages.submissions_per_minute,
            other => other.fixed_limit().unwrap_or(config.anonymous_per_minute),
        }
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: BucketKind,
    pub limit: u64,
    /// Hits in the window including this one.
    pub count: u64,
    /// Epoch seconds the window resets at.
    pub reset: i64,
    /// Epoch seconds now.
    pub now: i64,
    /// False only when the limit is exceeded (a failing shared counter always allows).
    pub allowed: bool,
}

impl Decision {
    /// Decides from a count.
    pub fn new(kind: BucketKind, limit: u64, count: u64, now_secs: i64) -> Self {
        Self {
            kind,
            limit,
            count,
            reset: window_start(now_secs) + WINDOW_SECONDS,
            now: now_secs,
            allowed: count <= limit,
        }
    }

    /// Requests left in the window.
    pub fn remaining(&self) -> u64 {
        if self.allowed {
            self.limit.saturating_sub(self.count)
        } else {
            0
        }
    }

    /// Seconds until the window resets (1..=60).
    pub fn seconds_to_reset(&self) -> i64 {
        (self.reset - self.now).clamp(1, WINDOW_SECONDS)
    }

    /// Sets the `X-RateLimit-*`, `RateLimit-Policy` and `RateLimit` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let kind = self.kind.as_str();
        headers.insert(
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(self.limit),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(self.remaining()),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(self.reset),
        );
        // Written into a stack buffer: the values are short and built on every response.
        let mut buf = [0u8; 96];
        if let Some(v) = header_value(
            &mut buf,
            format_args!("\"{kind}\";q={};w={WINDOW_SECONDS}", self.limit),
        ) {
            headers.insert(HeaderName::from_static("ratelimit-policy"), v);
        }
        if let Some(v) = header_value(
            &mut buf,
            format_args!(
                "\"{kind}\";r={};t={}",
                self.remaining(),
                self.seconds_to_reset()
            ),
        ) {
            headers.insert(HeaderName::from_static("ratelimit"), v);
        }
    }

    /// The 429 `rate_limited` error (headers included).
    pub fn rejection(&self) -> ApiError {
        let wait = self.seconds_to_reset();
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Rate limit exceeded; retry in {wait}s."),
        )
        .with_details(json!({
            "bucket": self.kind.as_str(),
            "limit": self.limit,
            "window_seconds": WINDOW_SECONDS,
        }));
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            err = err.with_header(header::RETRY_AFTER, v);
        }
        self.apply(&mut err.headers);
        err
    }
}

/// Formats `args` into `buf` and makes a header value of it (`None` if it does not fit).
fn header_value(buf: &mut [u8], args: std::fmt::Arguments<'_>) -> Option<HeaderValue> {
    use std::io::Write as _;
    let mut cursor = std::io::Cursor::new(buf);
    cursor.write_fmt(args).ok()?;
    let len = usize::try_from(cursor.position()).ok()?;
    HeaderValue::from_bytes(cursor.get_ref().get(..len)?).ok()
}

/// In-process fixed-window counters: (bucket, window start) → hits. Windows older than the
/// previous one are evicted whenever a newer window is first seen.
#[derive(Debug, Default)]
pub struct RateLimiter {
    inner: Mutex<Windows>,
}

/// Counters by window start, then bucket (at most the newest window and the one before it,
/// plus any older window still being hit). Keyed by window first so a hit on a known bucket
/// looks up a `&str` and allocates nothing.
#[derive(Debug, Default)]
struct Windows {
    newest: i64,
    windows: Vec<(i64, HashMap<Box<str>, u64>)>,
}

impl Windows {
    fn len(&self) -> usize {
        self.windows.iter().map(|(_, counts)| counts.len()).sum()
    }
}

impl RateLimiter {
    /// Adds one hit to `bucket` in the window starting at `window_start`; returns the count
    /// including this hit.
    pub fn hit(&self, bucket: &str, window_start: i64) -> u64 {
        let mut w = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if window_start > w.newest {
            w.newest = window_start;
            w.windows
                .retain(|(start, _)| *start >= window_start - WINDOW_SECONDS);
        }
        let i = match w
            .windows
            .iter()
            .position(|(start, _)| *start == window_start)
        {
            Some(i) => i,
            None => {
                w.windows.push((window_start, HashMap::new()));
                w.windows.len() - 1
            }
        };
        let Some((_, counts)) = w.windows.get_mut(i) else {
            return 1;
        };
        if let Some(c) = counts.get_mut(bucket) {
            *c += 1;
            return *c;
        }
        counts.insert(bucket.into(), 1);
        1
    }

    /// Number of (bucket, window) counters held.
    pub fn len(&self) -> usize {
        match self.inner.lock() {
            Ok(g) => g.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// True when no counter is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counts one request against `bucket` and decides.
pub async fn check(state: &AppState, bucket: &Bucket) -> Decision {
    let now = state.clock.now().as_second();
    let start = window_start(now);
    let limit = bucket.limit(&state.config);
    match &state.shared_counter {
        None => Decision::new(
            bucket.kind,
            limit,
            state.limiter.hit(&bucket.key, start),
            now,
        ),
        Some(shared) => match shared.hit(&bucket.key, start).await {
            Ok(count) => Decision::new(bucket.kind, limit, count, now),
            Err(e) => {
                tracing::warn!(error = ?e, bucket = bucket.kind.as_str(), "shared rate-limit counter failed; allowing the request");
                let local = state.limiter.hit(&bucket.key, start);
                let mut d = Decision::new(bucket.kind, limit, local, now);
                d.allowed = true;
                d
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_epoch_minutes() {
        assert_eq!(window_start(0), 0);
        assert_eq!(window_start(59), 0);
        assert_eq!(window_start(60), 60);
        assert_eq!(window_start(1_779_271_199), 1_779_271_140);
        assert_eq!(window_start(-1), -60);
    }

    #[test]
    fn decision_headers_and_reset() {
        // 3 requests into a window [1779271200, 1779271260), now = …223 → 37 s to reset.
        let d = Decision::new(BucketKind::Pat, 120, 3, 1_779_271_223);
        assert!(d.allowed);
        assert_eq!(d.reset, 1_779_271_260);
        assert_eq!(d.seconds_to_reset(), 37);
        let mut h = HeaderMap::new();
        d.apply(&mut h);
        assert_eq!(h["x-ratelimit-limit"], "120");
        assert_eq!(h["x-ratelimit-remaining"], "117");
        assert_eq!(h["x-ratelimit-reset"], "1779271260");
        assert_eq!(h["ratelimit-policy"], "\"pat\";q=120;w=60");
        assert_eq!(h["ratelimit"], "\"pat\";r=117;t=37");

        // At the very start of a window a full minute remains.
        let d = Decision::new(BucketKind::Anonymous, 30, 1, 1_779_271_200);
        assert_eq!((d.seconds_to_reset(), d.remaining()), (60, 29));
    }

    #[test]
    fn the_last_allowed_and_first_refused_request() {
        let last = Decision::new(BucketKind::Anonymous, 30, 30, 100);
        assert!(last.allowed);
        assert_eq!(last.remaining(), 0);
        let over = Decision::new(BucketKind::Anonymous, 30, 31, 100);
        assert!(!over.allowed);
        assert_eq!(over.remaining(), 0);
        let e = over.rejection();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        assert_eq!(e.message, "Rate limit exceeded; retry in 20s.");
        assert_eq!(
            e.details,
            json!({"bucket": "anonymous", "limit": 30, "window_seconds": 60})
        );
        assert_eq!(e.headers["retry-after"], "20");
        assert_eq!(e.headers["x-ratelimit-remaining"], "0");
        assert_eq!(e.headers["ratelimit"], "\"anonymous\";r=0;t=20");
    }

    #[test]
    fn limiter_counts_per_bucket_and_window_and_evicts() {
        let l = RateLimiter::default();
        assert_eq!(l.hit("pat:a", 60), 1);
        assert_eq!(l.hit("pat:a", 60), 2);
        assert_eq!(l.hit("pat:b", 60), 1);
        assert_eq!(l.hit("pat:a", 120), 1);
        assert_eq!(l.len(), 3);
        // Two windows later the window at 60 is gone.
        assert_eq!(l.hit("pat:a", 180), 1);
        assert_eq!(l.len(), 2);
        assert_eq!(l.hit("pat:a", 120), 2);
    }

    #[test]
    fn buckets() {
        use domain::ids::{OrganizationId, TokenId, UserId};
        let tid = uuid::Uuid::from_u128(7);
        let oid = uuid::Uuid::from_u128(9);
        let mut p = Principal {
            organization_id: OrganizationId(oid),
            user_id: UserId(uuid::Uuid::nil()),
            credential: Credential::Pat {
                token_id: TokenId(tid),
            },
            scopes: Default::default(),
            role: domain::organization::Role::Owner,
        };
        let b = Bucket::for_principal(&p);
        assert_eq!((b.kind, b.key), (BucketKind::Pat, format!("pat:{tid}")));
        p.credential = Credential::OAuth {
            client_id: "42min_app".into(),
        };
        let b = Bucket::for_principal(&p);
        assert_eq!(b.key, format!("oauth:42min_app:{oid}"));
        assert_eq!(
            Bucket::anonymous(Some("10.0.0.1".parse().unwrap())).key,
            "anonymous:10.0.0.1"
        );
        let cfg = crate::state::ApiConfig::default();
        assert_eq!(Bucket::anonymous(None).limit(&cfg), 30);
        let ip = Some("10.0.0.1".parse().unwrap());
        for (path, kind, limit) in [
            ("/v1/oauth/authorize", "oauth_authorize", 30),
            ("/v1/oauth/token", "oauth_token", 60),
            ("/v1/oauth/revoke", "oauth_revoke", 60),
            ("/v1/oauth/introspect", "oauth_introspect", 120),
            ("/v1/oauth/register", "oauth_register", 5),
            ("/v1/oauth/nope", "anonymous", 30),
            ("/.well-known/oauth-authorization-server", "anonymous", 30),
            ("/openapi.yaml", "anonymous", 30),
        ] {
            let b = Bucket::per_ip(BucketKind::for_unguarded_path(path).unwrap(), ip);
            assert_eq!(b.key, format!("{kind}:10.0.0.1"), "{path}");
            assert_eq!(b.limit(&cfg), limit, "{path}");
        }
        for path in ["/healthz", "/readyz", "/metrics"] {
            assert_eq!(BucketKind::for_unguarded_path(path), None, "{path}");
        }
        assert_eq!(Bucket::for_principal(&p).limit(&cfg), 120);
    }
}
