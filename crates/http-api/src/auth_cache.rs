//! A short-lived cache of authenticated personal access tokens (the domain's `PatCache` port):
//! the token row together with its user's role and existence as read when it authenticated, so
//! that a busy client costs neither a token read nor a user read per request.
//!
//! **Bound: [`AUTH_CACHE_TTL`] = 10 seconds, measured by [`AppState::clock`].** An entry is
//! keyed by the token's public lookup id and holds the token row as read when it last
//! authenticated successfully — which also records that the row was not revoked at that
//! moment. The entry is used while
//! `cached_at <= clock.now() < cached_at + TTL`; after that (or if the clock went backwards)
//! the next request reads the store again.
//!
//! What is still checked on every request, cached or not:
//! - the secret, against the cached HMAC in constant time (a wrong secret never succeeds, and a
//!   cached entry whose hash does not match is re-read from the store once, so a secret
//!   regenerated on the same lookup id works at once);
//! - `expires_at` against `clock.now()` — expiry is exact, never delayed by the cache.
//!
//! What the cache may delay, by at most the TTL, unless the writer calls
//! [`AuthCache::invalidate_token`] / [`AuthCache::invalidate_all`] on the serving process's
//! state: a PAT revocation, the removal of the token's user, or a change of that user's role,
//! written straight to the store (e.g. by the admin CLI, another server process, or a test) —
//! one bound for all three, the one the CLI help states. Nothing else: OAuth tokens are not
//! cached at all (their row and their user are read on every request).
//!
//! Only successes are cached. Unknown lookups, wrong secrets, revoked or expired tokens and
//! tokens of removed owners are never cached: each such request reads the store, so a failure
//! cannot be pinned, and guessing lookup ids cannot fill the cache.
//!
//! Besides the clock check, entries are dropped after [`RESIDENT_FOR`] of real time and the
//! cache holds at most [`MAX_ENTRIES`] tokens; both only bound memory (dropping an entry early
//! just costs a store read).
//!
//! [`AppState::clock`]: crate::state::AppState::clock

use domain::organization::Role;
use domain::ports::{CachedPatAuth, PersonalAccessToken};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// How long a successful authentication is reused, by the application clock.
pub const AUTH_CACHE_TTL: SignedDuration = SignedDuration::from_secs(10);

/// Real time after which moka evicts an entry regardless of the application clock (memory
/// hygiene only; the authoritative bound is [`AUTH_CACHE_TTL`]).
pub const RESIDENT_FOR: Duration = Duration::from_secs(60);

/// Most tokens held at once.
pub const MAX_ENTRIES: u64 = 10_000;

/// One successful authentication.
#[derive(Debug)]
pub struct CachedPat {
    /// The token row as read (not revoked, owner present at `cached_at`) and the owner's role.
    pub auth: Arc<CachedPatAuth>,
    /// When it was read, by the application clock.
    pub cached_at: Timestamp,
}

/// The cache; clones share entries.
#[derive(Clone)]
pub struct AuthCache {
    inner: moka::future::Cache<String, Arc<CachedPat>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

impl AuthCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(RESIDENT_FOR)
                .build(),
        }
    }

    /// The entry for `lookup` if it is still fresh at `now`.
    pub async fn get(&self, lookup: &str, now: Timestamp) -> Option<Arc<CachedPat>> {
        let entry = self.inner.get(lookup).await?;
        is_fresh(entry.cached_at, now).then_some(entry)
    }

    /// Records a successful authentication of `pat` (its user having `role`) at `now`.
    pub async fn insert(&self, pat: PersonalAccessToken, role: Role, now: Timestamp) {
        self.put_auth(CachedPatAuth { pat, role }, now).await;
    }

    async fn put_auth(&self, auth: CachedPatAuth, now: Timestamp) {
        let lookup = auth.pat.lookup.clone();
        self.inner
            .insert(
                lookup,
                Arc::new(CachedPat {
                    auth: Arc::new(auth),
                    cached_at: now,
                }),
            )
            .await;
    }

    /// Forgets one token: its next request reads the store.
    pub async fn invalidate_token(&self, lookup: &str) {
        self.inner.invalidate(lookup).await;
    }

    /// Forgets every token: the next request of each reads the store.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }
}

#[async_trait::async_trait]
impl domain::ports::PatCache for AuthCache {
    async fn get(&self, lookup: &str, now: Timestamp) -> Option<Arc<CachedPatAuth>> {
        AuthCache::get(self, lookup, now)
            .await
            .map(|hit| hit.auth.clone())
    }

    async fn put(&self, auth: CachedPatAuth, now: Timestamp) {
        self.put_auth(auth, now).await;
    }
}

/// `cached_at <= now < cached_at + TTL`.
pub fn is_fresh(cached_at: Timestamp, now: Timestamp) -> bool {
    let age = now.duration_since(cached_at);
    !age.is_negative() && age < AUTH_CACHE_TTL
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::ScopeSet;
    use domain::{OrganizationId, TokenId, UserId};

    fn pat(lookup: &str) -> PersonalAccessToken {
        PersonalAccessToken {
            id: TokenId(uuid::Uuid::nil()),
            organization_id: OrganizationId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            name: "t".into(),
            lookup: lookup.into(),
            secret_hash: vec![1, 2, 3],
            scopes: ScopeSet::default(),
            last_four: "ABCD".into(),
            expires_at: None,
            revoked_at: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn freshness_is_half_open_and_rejects_a_clock_gone_backwards() {
        let t = Timestamp::from_second(1_000).unwrap();
        assert!(is_fresh(t, t));
        assert!(is_fresh(t, t + SignedDuration::from_millis(9_999)));
        assert!(!is_fresh(t, t + AUTH_CACHE_TTL));
        assert!(!is_fresh(t, t + SignedDuration::from_secs(3600)));
        assert!(!is_fresh(t, t - SignedDuration::from_millis(1)));
    }

    #[tokio::test]
    async fn entries_expire_by_the_given_clock_and_can_be_invalidated() {
        let c = AuthCache::new();
        let t = Timestamp::from_second(1_000).unwrap();
        c.insert(pat("AAAAAAAAAAAA"), Role::Owner, t).await;
        c.insert(pat("BBBBBBBBBBBB"), Role::Owner, t).await;
        assert!(
            c.get("AAAAAAAAAAAA", t + SignedDuration::from_secs(9))
                .await
                .is_some()
        );
        assert!(c.get("AAAAAAAAAAAA", t + AUTH_CACHE_TTL).await.is_none());
        assert!(c.get("CCCCCCCCCCCC", t).await.is_none());
        c.invalidate_token("AAAAAAAAAAAA").await;
        assert!(c.get("AAAAAAAAAAAA", t).await.is_none());
        assert!(c.get("BBBBBBBBBBBB", t).await.is_some());
        c.invalidate_all();
        assert!(c.get("BBBBBBBBBBBB", t).await.is_none());
    }
}
