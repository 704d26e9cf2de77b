//! OAuth 2.1 secrets (§6.2): access tokens `42min_at_<lookup12>_<secret32>` (1 hour), refresh
//! tokens `42min_rt_…` (30 days), authorization codes `42min_ac_…` and client secrets
//! `42min_cs_…` — all the [`crate::token`] format, stored as HMAC-SHA256(pepper, secret) and
//! checked in constant time — and the RFC 7636 S256 PKCE check, computed by the `oauth2`
//! crate's `PkceCodeChallenge::from_code_verifier_sha256` and compared in constant time.
//!
//! [`OAuthTokens`] implements the domain's [`OAuthSecrets`] port.

use crate::Pepper;
use crate::token::{self, ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX};
use domain::oauth::{MintedOAuthSecret, OAuthSecrets, SecretKind};
use secrecy::ExposeSecret;

/// Prefix of authorization codes.
pub const CODE_PREFIX: &str = "42min_ac_";
/// Prefix of client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "42min_cs_";

/// The prefix of each kind of secret.
pub fn prefix(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::AccessToken => ACCESS_TOKEN_PREFIX,
        SecretKind::RefreshToken => REFRESH_TOKEN_PREFIX,
        SecretKind::Code => CODE_PREFIX,
        SecretKind::ClientSecret => CLIENT_SECRET_PREFIX,
    }
}

/// Byte-wise comparison whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `BASE64URL(SHA256(verifier)) == challenge` (RFC 7636 §4.6), in constant time.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let verifier = oauth2::PkceCodeVerifier::new(verifier.to_owned());
    let computed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    constant_time_eq(computed.as_str().as_bytes(), challenge.as_bytes())
}

/// The [`OAuthSecrets`] adapter: token formats and peppered hashes.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pepper: Pepper,
}

impl OAuthTokens {
    pub fn new(pepper: Pepper) -> Self {
        Self { pepper }
    }
}

impl OAuthSecrets for OAuthTokens {
    fn mint(&self, kind: SecretKind) -> anyhow::Result<MintedOAuthSecret> {
        let t = token::generate(prefix(kind), &self.pepper)?;
        Ok(MintedOAuthSecret {
            text: t.token.expose_secret().to_owned(),
            lookup: t.lookup,
            secret_hash: t.secret_hash,
        })
    }

    fn lookup(&self, kind: SecretKind, text: &str) -> Option<String> {
        token::parse(prefix(kind), text).ok().map(|p| p.lookup)
    }

    fn verify(&self, kind: SecretKind, text: &str, stored_hash: &[u8]) -> bool {
        token::parse(prefix(kind), text).is_ok_and(|p| token::verify(&self.pepper, &p, stored_hash))
    }

    fn pkce_s256_matches(&self, verifier: &str, challenge: &str) -> bool {
        pkce_s256_matches(verifier, challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(!pkce_s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        // `plain` would compare the verifier itself: never accepted.
        assert!(!pkce_s256_matches(verifier, verifier));
        assert!(!pkce_s256_matches("short", challenge));
        assert!(!pkce_s256_matches(&format!("{verifier}!"), challenge));
    }

    #[test]
    fn every_kind_round_trips_and_is_its_own_family() {
        let t = OAuthTokens::new(Pepper::new(vec![3u8; 32]));
        let kinds = [
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::Code,
            SecretKind::ClientSecret,
        ];
        for kind in kinds {
            let m = t.mint(kind).unwrap();
            assert!(m.text.starts_with(prefix(kind)));
            assert_eq!(t.lookup(kind, &m.text).as_deref(), Some(m.lookup.as_str()));
            assert!(t.verify(kind, &m.text, &m.secret_hash));
            let mut wrong = m.text.clone();
            let last = wrong.pop().unwrap();
            wrong.push(if last == 'A' { 'B' } else { 'A' });
            assert!(!t.verify(kind, &wrong, &m.secret_hash));
            for other in kinds.iter().filter(|k| **k != kind) {
                assert_eq!(t.lookup(*other, &m.text), None);
                assert!(!t.verify(*other, &m.text, &m.secret_hash));
            }
            assert!(!format!("{m:?}").contains(&m.text));
        }
        let other_pepper = OAuthTokens::new(Pepper::new(vec![4u8; 32]));
        let m = t.mint(SecretKind::AccessToken).unwrap();
        assert!(!other_pepper.verify(SecretKind::AccessToken, &m.text, &m.secret_hash));
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
