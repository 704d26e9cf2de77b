//! The invitee's self-service link: `/_b/<token>`, one random, unguessable token per booking.
//!
//! The store keeps only the token's hash (to find the booking a presented token names) and a
//! sealed copy of the token (so that the e-mail worker can put the same link into later
//! messages); neither gives the link to someone who reads the database without the server's
//! pepper. Links are issued lazily ([`InviteeLinks::token_for`]: get-or-create), so booking
//! itself knows nothing of them: the confirmation redirect, the reschedule redirect and the
//! first e-mail about a booking all ask for its link, and whichever asks first creates it (the
//! store keeps the first link of a booking; a racing second creator gets that one back).
//!
//! Formats and hashes live behind [`LinkSecrets`] (`auth::link`), sealing behind the webhook
//! secrets' [`SecretBox`].

use crate::ids::{BookingUid, OrganizationId};
use crate::ports::{Clock, StoreError};
use crate::webhook_service::SecretBox;
use async_trait::async_trait;
use jiff::Timestamp;
use std::sync::Arc;

/// One booking's stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteeLink {
    pub organization_id: OrganizationId,
    pub booking_uid: BookingUid,
    /// The token's hash ([`LinkSecrets::hash`]); unique per organization.
    pub token_hash: Vec<u8>,
    /// The token sealed by a [`SecretBox`].
    pub sealed_token: Vec<u8>,
    pub created_at: Timestamp,
}

/// Storage of invitee links (every store implements it; part of `Storage`).
#[async_trait]
pub trait InviteeLinkStore: Send + Sync {
    /// Stores `link` unless its booking has one already, and returns the booking's link: the
    /// one just stored, or the one stored before (which wins; `link` is then discarded).
    async fn insert_invitee_link(&self, link: &InviteeLink) -> Result<InviteeLink, StoreError>;
    /// The link of one booking.
    async fn invitee_link(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<InviteeLink>, StoreError>;
    /// The link of the organization whose token hashes to `token_hash`.
    async fn find_invitee_link(
        &self,
        org: OrganizationId,
        token_hash: &[u8],
    ) -> Result<Option<InviteeLink>, StoreError>;
}

/// A token presented in a URL: the organization it names and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedLink {
    pub organization_id: OrganizationId,
    pub token_hash: Vec<u8>,
}

/// Link token formats and hashes.
pub trait LinkSecrets: Send + Sync {
    /// A new random token naming `org`.
    fn mint(&self, org: OrganizationId) -> Result<String, StoreError>;
    /// The organization a token names and its hash; `None` unless it has the exact format.
    fn parse(&self, token: &str) -> Option<PresentedLink>;
}

/// Equality of two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Issues and resolves invitee links.
#[derive(Clone)]
pub struct InviteeLinks {
    store: Arc<dyn InviteeLinkStore>,
    secrets: Arc<dyn LinkSecrets>,
    sealer: Arc<dyn SecretBox>,
    clock: Arc<dyn Clock>,
}

impl InviteeLinks {
    pub fn new(
        store: Arc<dyn InviteeLinkStore>,
        secrets: Arc<dyn LinkSecrets>,
        sealer: Arc<dyn SecretBox>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            secrets,
            sealer,
            clock,
        }
    }

    /// The token of booking `uid` of `org`, created (and stored) when it has none yet. The
    /// caller has checked that the booking exists.
    pub async fn token_for(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<String, StoreError> {
        if let Some(link) = self.store.invitee_link(org, uid).await? {
            return self.sealer.open(&link.sealed_token);
        }
        let token = self.secrets.mint(org)?;
        let presented = self.secrets.parse(&token).ok_or_else(|| {
            StoreError::Unknown(anyhow::anyhow!("a minted link token does not parse"))
        })?;
        let link = InviteeLink {
            organization_id: org,
            booking_uid: uid,
            token_hash: presented.token_hash,
            sealed_token: self.sealer.seal(&token)?,
            created_at: self.clock.now(),
        };
        let stored = self.store.insert_invitee_link(&link).await?;
        if stored.token_hash == link.token_hash {
            Ok(token)
        } else {
            // Another request created the booking's link first: that one is the link.
            self.sealer.open(&stored.sealed_token)
        }
    }

    /// `/_b/<token>` of booking `uid` (see [`InviteeLinks::token_for`]).
    pub async fn path_for(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<String, StoreError> {
        Ok(format!("/_b/{}", self.token_for(org, uid).await?))
    }

    /// The booking a presented token names; `None` for a malformed or unknown token.
    pub async fn open(
        &self,
        token: &str,
    ) -> Result<Option<(OrganizationId, BookingUid)>, StoreError> {
        let Some(p) = self.secrets.parse(token) else {
            return Ok(None);
        };
        let found = self
            .store
            .find_invitee_link(p.organization_id, &p.token_hash)
            .await?;
        Ok(found
            .filter(|l| {
                l.organization_id == p.organization_id
                    && constant_time_eq(&l.token_hash, &p.token_hash)
            })
            .map(|l| (l.organization_id, l.booking_uid)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
