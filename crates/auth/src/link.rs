//! Invitee link tokens (the domain's [`LinkSecrets`] port): `base64url(organization id ‖ 32
//! random bytes)`, 64 characters, and their stored hash HMAC-SHA256(pepper, label ‖ token).
//! The organization id in the token keeps the lookup inside one tenant; the 256 random bits make
//! the token unguessable; the peppered hash means a copy of the database alone cannot confirm a
//! guessed token.

use crate::Pepper;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::booking_page::link::{LinkSecrets, PresentedLink};
use domain::ids::OrganizationId;
use domain::ports::StoreError;
use ring::rand::{SecureRandom as _, SystemRandom};

/// Characters of a link token.
pub const LINK_TOKEN_LEN: usize = 64;
const RANDOM_LEN: usize = 32;
const LABEL: &[u8] = b"slotbook-invitee-link:v2:";

/// Link tokens and their peppered hashes.
#[derive(Clone)]
pub struct LinkTokens {
    pepper: Pepper,
    rng: SystemRandom,
}

impl LinkTokens {
    pub fn new(pepper: Pepper) -> Self {
        Self {
            pepper,
            rng: SystemRandom::new(),
        }
    }

    fn hash(&self, token: &str) -> Vec<u8> {
        let mut msg = Vec::with_capacity(LABEL.len() + token.len());
        msg.extend_from_slice(LABEL);
        msg.extend_from_slice(token.as_bytes());
        ring::hmac::sign(&self.pepper.hmac_key(), &msg)
            .as_ref()
            .to_vec()
    }
}

impl LinkSecrets for LinkTokens {
    fn mint(&self, org: OrganizationId) -> Result<String, StoreError> {
        let mut raw = [0u8; 16 + RANDOM_LEN];
        raw[..16].copy_from_slice(org.0.as_bytes());
        self.rng
            .fill(&mut raw[16..])
            .map_err(|_| StoreError::Unknown(anyhow::anyhow!("invitee link: no random bytes")))?;
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    fn parse(&self, token: &str) -> Option<PresentedLink> {
        if token.len() != LINK_TOKEN_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() != 16 + RANDOM_LEN {
            return None;
        }
        let org = OrganizationId(uuid::Uuid::from_slice(&raw[..16]).ok()?);
        Some(PresentedLink {
            organization_id: org,
            token_hash: self.hash(token),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tokens() -> LinkTokens {
        LinkTokens::new(Pepper::new(vec![7; 32]))
    }

    #[test]
    fn minted_tokens_parse_to_their_organization_and_differ() {
        let t = tokens();
        let org = OrganizationId(uuid::Uuid::new_v4());
        let (a, b) = (t.mint(org).unwrap(), t.mint(org).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), LINK_TOKEN_LEN);
        let p = t.parse(&a).unwrap();
        assert_eq!(p.organization_id, org);
        assert_ne!(p.token_hash, t.parse(&b).unwrap().token_hash);
        assert_eq!(p.token_hash, t.parse(&a).unwrap().token_hash);
    }

    #[test]
    fn the_hash_depends_on_the_pepper_and_malformed_tokens_do_not_parse() {
        let org = OrganizationId(uuid::Uuid::new_v4());
        let a = tokens().mint(org).unwrap();
        let other = LinkTokens::new(Pepper::new(vec![8; 32]));
        assert_ne!(
            tokens().parse(&a).unwrap().token_hash,
            other.parse(&a).unwrap().token_hash
        );
        assert!(tokens().parse(&a[1..]).is_none());
        assert!(tokens().parse(&format!("{}*", &a[1..])).is_none());
        assert!(tokens().parse("").is_none());
    }
}
