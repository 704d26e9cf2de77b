//! Credential formats and secrets (being written): personal access tokens, peppered HMAC
//! hashes, password hashing. Never logs or displays a secret.

use secrecy::{ExposeSecret, SecretSlice};

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
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper([REDACTED])")
    }
}
