//! Password hashing with argon2id (PHC strings). Both functions are CPU-heavy by design:
//! callers run them in `tokio::task::spawn_blocking`. Passwords are never logged.

use crate::AuthError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::{SecureRandom, SystemRandom};

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes `password` with argon2id and a fresh 16-byte salt; returns the PHC string.
pub fn hash(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| AuthError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::PasswordHash(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::PasswordHash(e.to_string()))
}

/// True when `password` matches the PHC string `phc` (any argon2 variant the string names);
/// false for a wrong password or an unparsable hash.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapl", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash("pw").unwrap(), hash("pw").unwrap());
    }

    #[test]
    fn garbage_hashes_never_verify() {
        assert!(!verify("pw", ""));
        assert!(!verify("pw", "not-a-phc-string"));
        assert!(!verify("pw", "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB"));
    }
}
