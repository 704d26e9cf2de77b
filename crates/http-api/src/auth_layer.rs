//! Bearer authentication and rate limits for `/v1/*` (§2.2–§2.4, §6.2).
//!
//! [`guard`] runs around every `/v1/*` request (including unknown paths and wrong methods),
//! cheapest work first, so that a refusal costs no database work:
//! 1. what needs no database: a missing or malformed `Authorization: Bearer <token>` header
//!    (the only place a token is read; query strings, bodies and cookies are never consulted)
//!    is a failed authentication at once, and a PAT found in the [`AuthCache`] is verified
//!    against it;
//! 2. otherwise the token must be looked up — but first the client address's anonymous bucket
//!    is checked in this process's own counters (no I/O): an address already over its
//!    anonymous limit is refused 429 before the lookup. (So from such an address only a PAT
//!    this process verified within the cache bound still passes; any other token waits for
//!    the window to reset, because telling it from a guess would need the lookup.) Then the
//!    token is looked up;
//! 3. it counts the request against the caller's bucket (`pat:<token id>` on success,
//!    `anonymous:<client address>` otherwise — so every 401 counts against the address), in
//!    process first and then in the shared counter ([`rate_limit::check`]); a lookup that
//!    failed because the store is unavailable (503) is counted in process only;
//! 4. over the limit → 429 `rate_limited`; failed auth → 401 with
//!    `WWW-Authenticate: Bearer realm="42min", error="<code>", resource_metadata="<base>/.well-known/oauth-protected-resource"`
//!    (RFC 9728); otherwise the
//!    [`Principal`] goes into the request extensions and the handler runs;
//! 5. the rate-limit headers are set on whatever response comes back.
//!
//! The whole guard runs under the request timeout ([`crate::ops`]).
//!
//! [`AuthCache`]: crate::auth_cache::AuthCache
//!
//! Both token kinds are decided by one domain call,
//! [`TokenService::authenticate`](domain::token_service::TokenService::authenticate): format,
//! lookup, constant-time secret check, revoked (`token_revoked`; for OAuth also the grant family
//! or the client), expired at `clock.now()` (`token_expired`), the user still a user of the
//! organization (the principal carries the user's role). Any other failure is
//! `invalid_token`, with one message, so a caller cannot tell an unknown lookup id from a wrong
//! secret or a removed user. PATs that authenticated are kept — row and user's role together —
//! in [`AuthCache`](crate::auth_cache::AuthCache) for
//! [`AUTH_CACHE_TTL`](crate::auth_cache::AUTH_CACHE_TTL) (10 s by `AppState::clock`): a PAT
//! revocation, a removal of its user or a role change written by another process takes effect
//! within that bound (see [`crate::auth_cache`]); OAuth access tokens are never cached, so
//! their revocation and their user's changes are seen at once in every process.
//!
//! Architecture Invariant: the token is never logged; only its public lookup id may be.

use crate::error::ApiError;
use crate::rate_limit::{self, Bucket, BucketKind};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::access::Principal;
use domain::token_service::AuthenticateError;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};

/// Paths the guard covers: `/v1` and everything under it except the OAuth endpoints, which
/// authenticate clients their own way (RFC 6749) and bring their own per-endpoint limits.
pub fn is_guarded(path: &str) -> bool {
    (path == "/v1" || path.starts_with("/v1/")) && !path.starts_with("/v1/oauth/")
}

/// 403 `insufficient_scope` naming the required scope, with
/// `WWW-Authenticate: Bearer error="insufficient_scope" scope="<scope>"`.
pub fn insufficient_scope(required: &'static str) -> ApiError {
    let err = ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("This action requires the '{required}' scope"),
    )
    .with_details(serde_json::json!({ "required_scope": required }));
    match HeaderValue::from_str(&format!(
        "Bearer error=\"insufficient_scope\" scope=\"{required}\""
    )) {
        Ok(v) => err.with_header(header::WWW_AUTHENTICATE, v),
        Err(_) => err,
    }
}

/// A 401 with the contract's code and `WWW-Authenticate` header.
pub fn unauthorized(code: &'static str, message: &str) -> ApiError {
    let err = ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    match HeaderValue::from_str(&format!("Bearer realm=\"42min\", error=\"{code}\"")) {
        Ok(v) => err.with_header(header::WWW_AUTHENTICATE, v),
        Err(_) => err,
    }
}

fn invalid_token() -> ApiError {
    unauthorized(
        "invalid_token",
        "The access token is missing, malformed or unknown",
    )
}

/// The bearer token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235).
/// `None` when the header is missing, not ASCII, another scheme, or has an empty token.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty() && !token.contains(' ')).then_some(token)
}

/// The client address for anonymous limits: the socket peer, or the last `X-Forwarded-For`
/// hop when the peer is a trusted proxy. Never a header from an untrusted peer.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let last_hop = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|s| !s.is_empty());
    Some(last_hop.and_then(|h| h.parse().ok()).unwrap_or(peer))
}

/// Authenticates the request's bearer token, either kind, through
/// [`TokenService::authenticate`](domain::token_service::TokenService::authenticate) (the
/// cache only spares PAT row reads); this layer parses the header and renders the refusal.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = bearer_token(headers).ok_or_else(invalid_token)?;
    state
        .services
        .tokens
        .authenticate(token, &state.auth_cache)
        .await
        .map_err(auth_error)
}

/// The part of [`authenticate`] that needs no database: a missing or malformed token (401) or a
/// PAT verified against the authentication cache; `None` when the store must be asked.
async fn authenticate_cheaply(
    state: &AppState,
    headers: &HeaderMap,
) -> Option<Result<Principal, ApiError>> {
    let Some(token) = bearer_token(headers) else {
        return Some(Err(invalid_token()));
    };
    state
        .services
        .tokens
        .authenticate_without_store(token, &state.auth_cache)
        .await
        .map(|r| r.map_err(auth_error))
}

/// The contract's 401 for each refusal; unknown lookups, wrong secrets and removed users are
/// one `invalid_token`.
fn auth_error(e: AuthenticateError) -> ApiError {
    match e {
        AuthenticateError::Invalid | AuthenticateError::UserGone => invalid_token(),
        AuthenticateError::Revoked => {
            unauthorized("token_revoked", "The access token has been revoked")
        }
        AuthenticateError::Expired => unauthorized("token_expired", "The access token has expired"),
        AuthenticateError::Unknown(e) => ApiError::internal(e),
    }
}

/// Adds RFC 9728 `resource_metadata` (the protected resource document's URL) to a 401's
/// `WWW-Authenticate: Bearer …` challenge, so a client can discover the authorization server.
pub fn with_resource_metadata(mut e: ApiError, base: &str) -> ApiError {
    if e.status != StatusCode::UNAUTHORIZED {
        return e;
    }
    let Some(challenge) = e
        .headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
    else {
        return e;
    };
    let value = format!(
        "{challenge}, resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
        base.trim_end_matches('/')
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        e.headers.insert(header::WWW_AUTHENTICATE, v);
    }
    e
}

/// The guard of the application middleware ([`crate::ops`]); acts on [`is_guarded`] paths
/// only and runs the rest of the stack with `inner`.
pub async fn guard<F, Fut>(state: &AppState, mut req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &state.config.trusted_proxies);
    if !is_guarded(req.uri().path()) {
        // The OAuth endpoints, discovery and the OpenAPI document: per-IP buckets, no token.
        let Some(kind) = BucketKind::for_unguarded_path(req.uri().path()) else {
            return inner(req).await;
        };
        let decision = rate_limit::check(state, &Bucket::per_ip(kind, ip)).await;
        if !decision.allowed {
            return decision.rejection().into_response();
        }
        let mut resp = inner(req).await;
        decision.apply(resp.headers_mut());
        return resp;
    }
    // Cheapest first. 1: what needs no database (no token, a malformed one, a cached PAT).
    let auth = match authenticate_cheaply(state, req.headers()).await {
        Some(decided) => decided,
        None => {
            // 2: the token must be looked up. An address over its anonymous limit (by this
            // process's own count, no I/O) is refused before that lookup.
            if let Some(refused) = rate_limit::refuse_early(state, &Bucket::anonymous(ip)) {
                return refused.rejection().into_response();
            }
            authenticate(state, req.headers()).await
        }
    };
    // 3: the caller's bucket, in-process count first, then the shared counter. A failed lookup
    // (the store unavailable: 503) answers at once without asking the shared counter too.
    let decision = match &auth {
        Ok(p) => rate_limit::check(state, &Bucket::for_principal(p)).await,
        Err(e) if e.status.is_server_error() => {
            rate_limit::check_local(state, &Bucket::anonymous(ip))
        }
        Err(_) => rate_limit::check(state, &Bucket::anonymous(ip)).await,
    };
    if !decision.allowed {
        return decision.rejection().into_response();
    }
    let mut resp = match auth {
        Err(e) => with_resource_metadata(e, &state.config.public_base_url).into_response(),
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            inner(req).await
        }
    };
    decision.apply(resp.headers_mut());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn bearer_parsing() {
        let t = "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ";
        assert_eq!(
            bearer_token(&h(&[("authorization", &format!("Bearer {t}"))])),
            Some(t)
        );
        assert_eq!(
            bearer_token(&h(&[("authorization", &format!("bearer {t}"))])),
            Some(t)
        );
        assert_eq!(
            bearer_token(&h(&[("authorization", &format!("Bearer  {t} "))])),
            Some(t)
        );
        assert_eq!(bearer_token(&h(&[])), None);
        assert_eq!(bearer_token(&h(&[("authorization", "Bearer")])), None);
        assert_eq!(bearer_token(&h(&[("authorization", "Bearer ")])), None);
        assert_eq!(
            bearer_token(&h(&[("authorization", &format!("Basic {t}"))])),
            None
        );
        assert_eq!(bearer_token(&h(&[("authorization", "Bearer a b")])), None);
        assert_eq!(bearer_token(&h(&[("x-api-key", t)])), None);
    }

    #[test]
    fn www_authenticate_headers() {
        let e = unauthorized("token_expired", "x");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            e.headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"42min\", error=\"token_expired\""
        );
        let e = insufficient_scope("bookings:create");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.message,
            "This action requires the 'bookings:create' scope"
        );
        assert_eq!(
            e.details,
            serde_json::json!({"required_scope": "bookings:create"})
        );
        assert_eq!(
            e.headers[header::WWW_AUTHENTICATE],
            "Bearer error=\"insufficient_scope\" scope=\"bookings:create\""
        );
    }

    #[test]
    fn resource_metadata_is_added_to_401s_only() {
        let e = with_resource_metadata(unauthorized("invalid_token", "x"), "https://api.example/");
        assert_eq!(
            e.headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"42min\", error=\"invalid_token\", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\""
        );
        let e = with_resource_metadata(insufficient_scope("user:read"), "https://api.example");
        assert_eq!(
            e.headers[header::WWW_AUTHENTICATE],
            "Bearer error=\"insufficient_scope\" scope=\"user:read\""
        );
    }

    #[test]
    fn client_ip_trusts_forwarded_for_only_from_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let xff = h(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7")]);
        assert_eq!(client_ip(Some(peer), &xff, &[proxy]), Some(peer));
        assert_eq!(
            client_ip(Some(proxy), &xff, &[proxy]),
            Some("198.51.100.7".parse().unwrap())
        );
        let two = h(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "2.2.2.2"),
        ]);
        assert_eq!(
            client_ip(Some(proxy), &two, &[proxy]),
            Some("2.2.2.2".parse().unwrap())
        );
        let junk = h(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(Some(proxy), &junk, &[proxy]), Some(proxy));
        assert_eq!(client_ip(Some(proxy), &h(&[]), &[proxy]), Some(proxy));
        assert_eq!(client_ip(None, &xff, &[proxy]), None);
    }

    #[test]
    fn guarded_paths() {
        assert!(is_guarded("/v1/_ping"));
        assert!(is_guarded("/v1/nope"));
        assert!(is_guarded("/v1"));
        assert!(!is_guarded("/v1/oauth/token"));
        assert!(!is_guarded("/v10/x"));
        assert!(!is_guarded("/healthz"));
        assert!(!is_guarded("/.well-known/oauth-protected-resource"));
    }
}
