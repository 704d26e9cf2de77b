//! Credential formats and secrets: opaque bearer tokens (`42min_pat_…` personal access tokens
//! and `42min_at_…` / `42min_rt_…` OAuth tokens, codes and client secrets; the PKCE S256 check), peppered HMAC-SHA256 secret hashes
//! and argon2id password hashing.
//!
//! Architecture Invariant: this crate never logs, displays or stores a token secret or a
//! password in clear; secrets travel as `secrecy` types, hashes are compared in constant time
//! (`ring::hmac::verify`), and `Debug` output of every secret-bearing type is redacted.

pub mod link;
pub mod oauth;
pub mod password;
pub mod pat;
pub mod token;

use secrecy::{ExposeSecret, SecretSlice};

/// Why a credential operation failed. Messages never contain secret material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// The token does not have the expected shape (prefix, length, alphabet).
    #[error("malformed token")]
    MalformedToken,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// Password hashing failed (argon2 parameter or encoding error).
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
}

/// The server-side pepper keying token hashes (HMAC-SHA256). Debug output is redacted.
#[derive(Clone)]
pub struct Pepper(SecretSlice<u8>);

impl Pepper {
    /// From raw bytes (at least 32 recommended).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    /// The key bytes, for HMAC only.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The HMAC-SHA256 key derived from the pepper.
    pub(crate) fn hmac_key(&self) -> ring::hmac::Key {
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.expose())
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pepper_debug_is_redacted() {
        let p = Pepper::new(b"super-secret-pepper".to_vec());
        let shown = format!("{p:?}");
        assert_eq!(shown, "Pepper([REDACTED])");
        assert!(!shown.contains("super"));
    }
}
