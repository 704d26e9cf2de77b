//! Fixed-window rate limits for `/v1/*` (§2.4, §6.3, §7.3).
//!
//! Windows are 60 seconds aligned to epoch minutes: a request at instant `t` (epoch seconds)
//! counts in the window starting at `floor(t / 60) * 60`, which resets at `start + 60` — a hard
//! boundary, not a sliding penalty. Buckets, independent of each other:
//! - `pat:<token id>`: [`ApiConfig::authenticated_per_minute`] (120),
//! - `oauth:<client id>:<organization id>`: the same limit,
//! - `anonymous:<client address>`: [`ApiConfig::anonymous_per_minute`] (30) — requests without a
//!   valid token, including every 401, and the anonymous paths outside `/v1`: `/.well-known/*`,
//!   `/openapi.*` (and unknown `/v1/oauth/*` paths);
//! - `page_view:<client ip>` and `page_submit:<client ip>`: the public booking pages' views
//!   (GET, 120) and form submissions (POST, 10), `[pages]` in the configuration — their own
//!   buckets, so browsing a booking page never uses up an API client's anonymous allowance.
//! - the OAuth endpoints' own per-IP buckets (§2.4, §5.1): `oauth_authorize:<ip>` 30 (GET and
//!   the form POSTs), `oauth_token:<ip>` 60, `oauth_revoke:<ip>` 60, `oauth_introspect:<ip>`
//!   120, `oauth_register:<ip>` 5 ([`BucketKind::fixed_limit`]).
//!
//! The operations endpoints (`/healthz`, `/readyz`, `/metrics`) are not limited (`/metrics` can
//! require a token instead: [`ApiConfig::metrics_token`]).
//!
//! Per-IP buckets are keyed by [`ClientKey`]: an IPv4 address, or the /64 of an IPv6 address
//! (IPv4-mapped IPv6 counts as IPv4).
//!
//! Every request is counted in this process ([`RateLimiter`], bounded by
//! [`MAX_COUNTERS_PER_WINDOW`] buckets per window) and, when several servers share the load,
//! then in [`AppState::shared_counter`] — only if the in-process count has not refused it
//! already, so a flood over a limit never reaches the database ([`check`]). The shared counter
//! is waited for at most [`ApiConfig::shared_counter_timeout`] (250 ms; on Postgres it has its
//! own small pool with that acquire timeout). If it fails or is late the limiter fails open
//! (§2.4): the request is allowed, a warning is logged and the headers fall back to the
//! in-process count.
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
//! [`ApiConfig::metrics_token`]: crate::state::ApiConfig::metrics_token
//! [`AppState::shared_counter`]: crate::state::AppState::shared_counter
//! [`ApiConfig::shared_counter_timeout`]: crate::state::ApiConfig::shared_counter_timeout

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use domain::access::{Credential, Principal};
use serde_json::json;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

/// What a per-IP bucket is keyed by: an IPv4 address as it is, an IPv4-mapped IPv6 address
/// (`::ffff:a.b.c.d`) as that IPv4 address, any other IPv6 address by its /64 — the smallest
/// prefix a subscriber is normally given, so one client cannot get a fresh allowance (and a new
/// counter) from every address of its own network. Displayed as `192.0.2.7` or
/// `2001:db8:1:2::/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(std::net::Ipv4Addr),
    V6Net64(Ipv6Addr),
}

impl ClientKey {
    /// The key of a client address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4),
                None => Self::V6Net64(Ipv6Addr::from(
                    u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
                )),
            },
        }
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::V4(v4) => write!(f, "{v4}"),
            Self::V6Net64(net) => write!(f, "{net}/64"),
        }
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

    /// A bucket of `kind` keyed by client address (`<kind>:<`[`ClientKey`]`>`); `None` =
    /// address unknown.
    pub fn per_ip(kind: BucketKind, ip: Option<IpAddr>) -> Self {
        let key = match ip {
            Some(ip) => format!("{}:{}", kind.as_str(), ClientKey::of(ip)),
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

/// Most counters one window holds in this process ([`RateLimiter::default`]). Beyond it moka
/// evicts (its TinyLFU admission keeps the frequently hit buckets, so a flood of one-hit keys
/// cannot push out the counter of a client that is being limited).
pub const MAX_COUNTERS_PER_WINDOW: u64 = 100_000;

/// In-process fixed-window counters: (bucket, window start) → hits, bounded. Windows older than
/// the previous one are dropped whenever a newer window is first seen, and each window holds at
/// most its capacity of buckets ([`MAX_COUNTERS_PER_WINDOW`] by default), so no number of
/// distinct client addresses or tokens can grow the map without bound.
pub struct RateLimiter {
    capacity: u64,
    inner: Mutex<Windows>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_COUNTERS_PER_WINDOW)
    }
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// One window's counters. A hit on a known bucket looks up a `&str` and allocates nothing.
type Counters = moka::sync::Cache<String, Arc<AtomicU64>>;

/// Counters by window start (at most the newest window and the one before it, plus any older
/// window still being hit).
#[derive(Default)]
struct Windows {
    newest: i64,
    windows: Vec<(i64, Counters)>,
}

impl RateLimiter {
    /// A limiter holding at most `capacity` buckets per window.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Windows::default()),
        }
    }

    /// The counters of the window starting at `window_start`, created when `create`.
    fn window(&self, window_start: i64, create: bool) -> Option<Counters> {
        let mut w = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, c)) = w.windows.iter().find(|(start, _)| *start == window_start) {
            return Some(c.clone());
        }
        if !create {
            return None;
        }
        if window_start > w.newest {
            w.newest = window_start;
            w.windows
                .retain(|(start, _)| *start >= window_start - WINDOW_SECONDS);
        }
        let counters = Counters::builder()
            .max_capacity(self.capacity)
            .time_to_live(std::time::Duration::from_secs(
                3 * WINDOW_SECONDS.unsigned_abs(),
            ))
            .build();
        w.windows.push((window_start, counters.clone()));
        Some(counters)
    }

    /// Adds one hit to `bucket` in the window starting at `window_start`; returns the count
    /// including this hit.
    pub fn hit(&self, bucket: &str, window_start: i64) -> u64 {
        let Some(counters) = self.window(window_start, true) else {
            return 1;
        };
        let counter = match counters.get(bucket) {
            Some(c) => c,
            None => counters
                .entry_by_ref(bucket)
                .or_insert_with(|| Arc::new(AtomicU64::new(0)))
                .into_value(),
        };
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The hits `bucket` has in the window starting at `window_start`, without adding one.
    pub fn count(&self, bucket: &str, window_start: i64) -> u64 {
        self.window(window_start, false)
            .and_then(|c| c.get(bucket))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Number of (bucket, window) counters held (after moka's pending evictions ran).
    pub fn len(&self) -> usize {
        let windows: Vec<Counters> = match self.inner.lock() {
            Ok(g) => g.windows.iter().map(|(_, c)| c.clone()).collect(),
            Err(poisoned) => poisoned
                .into_inner()
                .windows
                .iter()
                .map(|(_, c)| c.clone())
                .collect(),
        };
        windows
            .iter()
            .map(|c| {
                c.run_pending_tasks();
                usize::try_from(c.entry_count()).unwrap_or(usize::MAX)
            })
            .sum()
    }

    /// True when no counter is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counts one request against `bucket` and decides, cheapest first:
/// 1. the in-process counter (no I/O). Over the limit → refused here: every hit this process
///    let through was also counted by the shared counter, so the shared count can only be
///    higher. A flood over the limit therefore never reaches the database.
/// 2. the shared counter, if configured, bounded by [`ApiConfig::shared_counter_timeout`]. Its
///    count decides (and fills the headers). When it fails or does not answer in time the
///    request is allowed (fail-open, §2.4) with the in-process count in the headers, and a
///    warning is logged.
///
/// [`ApiConfig::shared_counter_timeout`]: crate::state::ApiConfig::shared_counter_timeout
pub async fn check(state: &AppState, bucket: &Bucket) -> Decision {
    let local = check_local(state, bucket);
    let (now, start, limit) = (local.now, window_start(local.now), local.limit);
    let Some(shared) = &state.shared_counter else {
        return local;
    };
    if !local.allowed {
        return local;
    }
    match tokio::time::timeout(
        state.config.shared_counter_timeout,
        shared.hit(&bucket.key, start),
    )
    .await
    {
        Ok(Ok(count)) => Decision::new(bucket.kind, limit, count.max(local.count), now),
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, bucket = bucket.kind.as_str(), "shared rate-limit counter failed; allowing the request");
            local
        }
        Err(_) => {
            tracing::warn!(
                bucket = bucket.kind.as_str(),
                timeout_ms = state.config.shared_counter_timeout.as_millis(),
                "shared rate-limit counter did not answer in time; allowing the request"
            );
            local
        }
    }
}

/// Counts one request against `bucket` in this process only and decides (no I/O).
pub fn check_local(state: &AppState, bucket: &Bucket) -> Decision {
    let now = state.clock.now().as_second();
    Decision::new(
        bucket.kind,
        bucket.limit(&state.config),
        state.limiter.hit(&bucket.key, window_start(now)),
        now,
    )
}

/// The refusal of `bucket` decided from the in-process counter alone, if it is over its limit
/// already (the request is counted then); `None` otherwise, without counting. For the guard's
/// check before work that needs the database.
pub fn refuse_early(state: &AppState, bucket: &Bucket) -> Option<Decision> {
    let now = state.clock.now().as_second();
    let start = window_start(now);
    let limit = bucket.limit(&state.config);
    if state.limiter.count(&bucket.key, start) < limit {
        return None;
    }
    let d = Decision::new(
        bucket.kind,
        limit,
        state.limiter.hit(&bucket.key, start),
        now,
    );
    (!d.allowed).then_some(d)
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
    fn client_keys() {
        let key = |s: &str| ClientKey::of(s.parse().unwrap()).to_string();
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_eq!(
            key("::ffff:203.0.113.9"),
            "203.0.113.9",
            "IPv4-mapped is IPv4"
        );
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(
            key("2001:db8:1:3::1"),
            key("2001:db8:1:2::1"),
            "another /64"
        );
        assert_eq!(key("::1"), "::/64");
        assert_eq!(key("fe80::1"), "fe80::/64");
        // Every address of one /64 shares one bucket; IPv4 addresses never do.
        assert_eq!(
            Bucket::anonymous(Some("2001:db8::1".parse().unwrap())).key,
            Bucket::anonymous(Some("2001:db8::dead:beef".parse().unwrap())).key
        );
        assert_eq!(
            Bucket::anonymous(Some("2001:db8::1".parse().unwrap())).key,
            "anonymous:2001:db8::/64"
        );
        assert_ne!(
            Bucket::anonymous(Some("10.0.0.1".parse().unwrap())).key,
            Bucket::anonymous(Some("10.0.0.2".parse().unwrap())).key
        );
    }

    #[test]
    fn limiter_stays_bounded_under_many_keys() {
        let l = RateLimiter::with_capacity(1_000);
        for i in 0..50_000u32 {
            l.hit(&format!("anonymous:{i}"), 60);
        }
        let held = l.len();
        assert!(held <= 1_000, "{held} counters held for a capacity of 1000");
        // A bucket hit again and again is kept and keeps counting across the flood.
        let l = RateLimiter::with_capacity(100);
        for i in 0..20_000u32 {
            l.hit("anonymous:flooder", 60);
            l.hit(&format!("anonymous:{i}"), 60);
        }
        assert!(l.len() <= 100, "{}", l.len());
        assert!(l.count("anonymous:flooder", 60) > 19_000);
        // Default capacity.
        assert_eq!(RateLimiter::default().capacity, MAX_COUNTERS_PER_WINDOW);
    }

    #[test]
    fn count_reads_without_adding() {
        let l = RateLimiter::default();
        assert_eq!(l.count("pat:a", 60), 0);
        assert!(l.is_empty(), "count creates nothing");
        l.hit("pat:a", 60);
        assert_eq!(l.count("pat:a", 60), 1);
        assert_eq!(l.count("pat:a", 60), 1);
        assert_eq!(l.count("pat:a", 120), 0);
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
