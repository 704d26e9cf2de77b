//! [`OAuthStore`] in memory: clients, codes, grant families and tokens under the state lock
//! (so code redemption and refresh rotation are atomic: exactly one caller wins). A token's
//! effective revocation folds in its family's and its client's.

use crate::MemoryStore;
use async_trait::async_trait;
use domain::oauth::{AuthorizationCode, OAuthClient, OAuthStore, OAuthToken, Redemption};
use domain::organization::User;
use domain::ports::{CreateError, StoreError};
use jiff::Timestamp;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The OAuth part of the in-memory state.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    clients: BTreeMap<String, OAuthClient>,
    codes: BTreeMap<String, AuthorizationCode>,
    /// family id → revoked at
    families: BTreeMap<Uuid, Option<Timestamp>>,
    tokens: BTreeMap<String, OAuthToken>,
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl OAuthState {
    fn family_revoked(&self, id: Uuid) -> Option<Timestamp> {
        self.families.get(&id).copied().flatten()
    }
}

#[async_trait]
impl OAuthStore for MemoryStore {
    async fn create_client(&self, c: &OAuthClient) -> Result<(), CreateError> {
        let mut s = self.state();
        if s.oauth.clients.contains_key(&c.client_id) {
            return Err(CreateError::Duplicate { field: "client_id" });
        }
        s.oauth.clients.insert(c.client_id.clone(), c.clone());
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError> {
        Ok(self.state().oauth.clients.get(client_id).cloned())
    }

    async fn list_clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let mut v: Vec<OAuthClient> = self.state().oauth.clients.values().cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(v)
    }

    async fn set_client_secret(&self, client_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
        let mut s = self.state();
        match s.oauth.clients.get_mut(client_id) {
            Some(c) if c.revoked_at.is_none() => {
                c.secret_hash = Some(hash.to_vec());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_client(&self, client_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut s = self.state();
        match s.oauth.clients.get_mut(client_id) {
            Some(c) if c.revoked_at.is_none() => {
                c.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError> {
        let key = email.to_lowercase();
        let mut v: Vec<User> = self
            .state()
            .users
            .values()
            .filter(|u| u.email.as_str().to_lowercase() == key)
            .cloned()
            .collect();
        v.sort_by_key(|u| (u.created_at, u.id));
        Ok(v)
    }

    async fn create_code(&self, c: &AuthorizationCode) -> Result<(), StoreError> {
        let mut s = self.state();
        s.oauth.families.insert(c.family_id, None);
        s.oauth.codes.insert(c.lookup.clone(), c.clone());
        Ok(())
    }

    async fn find_code(&self, lookup: &str) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(self.state().oauth.codes.get(lookup).cloned())
    }

    async fn redeem_code(
        &self,
        lookup: &str,
        now: Timestamp,
    ) -> Result<Option<Redemption>, StoreError> {
        let mut s = self.state();
        Ok(s.oauth.codes.get_mut(lookup).map(|c| {
            if c.used_at.is_some() {
                Redemption::Replayed
            } else {
                c.used_at = Some(now);
                Redemption::First
            }
        }))
    }

    async fn insert_tokens(&self, tokens: &[OAuthToken]) -> Result<(), StoreError> {
        let mut s = self.state();
        for t in tokens {
            s.oauth.tokens.insert(t.lookup.clone(), t.clone());
        }
        Ok(())
    }

    async fn find_token(&self, lookup: &str) -> Result<Option<OAuthToken>, StoreError> {
        let s = self.state();
        Ok(s.oauth.tokens.get(lookup).map(|t| {
            let mut t = t.clone();
            let client = s.oauth.clients.get(&t.client_id).and_then(|c| c.revoked_at);
            t.revoked_at = earliest(
                earliest(t.revoked_at, s.oauth.family_revoked(t.family_id)),
                client,
            );
            t
        }))
    }

    async fn rotate_refresh(
        &self,
        lookup: &str,
        now: Timestamp,
        successors: &[OAuthToken],
    ) -> Result<bool, StoreError> {
        let mut s = self.state();
        let Some(t) = s.oauth.tokens.get(lookup) else {
            return Ok(false);
        };
        if t.kind != domain::oauth::TokenKind::Refresh
            || t.rotated_at.is_some()
            || t.revoked_at.is_some()
            || s.oauth.family_revoked(t.family_id).is_some()
        {
            return Ok(false);
        }
        if let Some(t) = s.oauth.tokens.get_mut(lookup) {
            t.rotated_at = Some(now);
        }
        for n in successors {
            s.oauth.tokens.insert(n.lookup.clone(), n.clone());
        }
        Ok(true)
    }

    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        let mut s = self.state();
        let f = s.oauth.families.entry(family_id).or_insert(None);
        if f.is_none() {
            *f = Some(now);
        }
        Ok(())
    }

    async fn revoke_token(&self, lookup: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut s = self.state();
        match s.oauth.tokens.get_mut(lookup) {
            Some(t) if t.revoked_at.is_none() => {
                t.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
