//! Opaque bearer tokens `<prefix><lookup12>_<secret32>`: both parts uppercase Crockford base32
//! (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`) drawn from `ring::rand::SystemRandom`. The lookup id
//! finds the stored row (it is not secret); the secret is stored only as
//! HMAC-SHA256(pepper, secret) and checked in constant time.
//!
//! The prefix is a parameter so that personal access tokens (`42min_pat_`) and OAuth access and
//! refresh tokens (`42min_at_`, `42min_rt_`) share one format and one verifier.

use crate::{AuthError, Pepper};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

/// Uppercase Crockford base32 (no I, L, O, U).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Length of the public lookup id.
pub const LOOKUP_LEN: usize = 12;
/// Length of the secret part.
pub const SECRET_LEN: usize = 32;

/// Prefix of personal access tokens.
pub const PAT_PREFIX: &str = "42min_pat_";
/// Prefix of OAuth access tokens.
pub const ACCESS_TOKEN_PREFIX: &str = "42min_at_";
/// Prefix of OAuth refresh tokens.
pub const REFRESH_TOKEN_PREFIX: &str = "42min_rt_";

/// A freshly minted token: the full token (shown once) and what is stored.
pub struct NewToken {
    /// The whole token, to hand to the caller exactly once.
    pub token: SecretString,
    /// The public lookup id.
    pub lookup: String,
    /// HMAC-SHA256(pepper, secret).
    pub secret_hash: Vec<u8>,
    /// The last four characters of the secret, for display.
    pub last_four: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &"[REDACTED]")
            .field("lookup", &self.lookup)
            .field("last_four", &self.last_four)
            .finish_non_exhaustive()
    }
}

/// A token split into its lookup id and secret; the secret is only reachable through
/// [`verify`].
#[derive(Clone)]
pub struct ParsedToken {
    /// The public lookup id.
    pub lookup: String,
    secret: SecretString,
}

impl std::fmt::Debug for ParsedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedToken")
            .field("lookup", &self.lookup)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// `n` random characters of [`ALPHABET`] (unbiased: 256 is a multiple of 32).
fn random_chars(rng: &SystemRandom, n: usize) -> Result<String, AuthError> {
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes).map_err(|_| AuthError::Random)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

fn is_alphabet(s: &str) -> bool {
    s.bytes().all(|b| ALPHABET.contains(&b))
}

/// Mints a token with `prefix`.
pub fn generate(prefix: &str, pepper: &Pepper) -> Result<NewToken, AuthError> {
    let rng = SystemRandom::new();
    let lookup = random_chars(&rng, LOOKUP_LEN)?;
    let secret = random_chars(&rng, SECRET_LEN)?;
    let secret_hash = hash_secret(pepper, &secret);
    let last_four = secret[SECRET_LEN - 4..].to_owned();
    let token = SecretString::from(format!("{prefix}{lookup}_{secret}"));
    Ok(NewToken {
        token,
        lookup,
        secret_hash,
        last_four,
    })
}

/// Splits a token of the `prefix` family; exact length, prefix, separator and uppercase
/// alphabet are required.
pub fn parse(prefix: &str, token: &str) -> Result<ParsedToken, AuthError> {
    let rest = token
        .strip_prefix(prefix)
        .ok_or(AuthError::MalformedToken)?;
    if rest.len() != LOOKUP_LEN + 1 + SECRET_LEN || !rest.is_ascii() {
        return Err(AuthError::MalformedToken);
    }
    let (lookup, tail) = rest.split_at(LOOKUP_LEN);
    let secret = tail.strip_prefix('_').ok_or(AuthError::MalformedToken)?;
    if !is_alphabet(lookup) || !is_alphabet(secret) {
        return Err(AuthError::MalformedToken);
    }
    Ok(ParsedToken {
        lookup: lookup.to_owned(),
        secret: SecretString::from(secret.to_owned()),
    })
}

/// HMAC-SHA256(pepper, secret).
pub fn hash_secret(pepper: &Pepper, secret: &str) -> Vec<u8> {
    ring::hmac::sign(&pepper.hmac_key(), secret.as_bytes())
        .as_ref()
        .to_vec()
}

/// True when the token's secret hashes to `stored_hash` under `pepper`; constant time.
pub fn verify(pepper: &Pepper, parsed: &ParsedToken, stored_hash: &[u8]) -> bool {
    ring::hmac::verify(
        &pepper.hmac_key(),
        parsed.secret.expose_secret().as_bytes(),
        stored_hash,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pepper() -> Pepper {
        Pepper::new(vec![7u8; 32])
    }

    #[test]
    fn oauth_prefixes_share_the_format() {
        for prefix in [ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX] {
            let t = generate(prefix, &pepper()).unwrap();
            let s = t.token.expose_secret();
            assert!(s.starts_with(prefix));
            let p = parse(prefix, s).unwrap();
            assert!(verify(&pepper(), &p, &t.secret_hash));
            assert_eq!(parse(PAT_PREFIX, s).unwrap_err(), AuthError::MalformedToken);
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let t = generate(PAT_PREFIX, &pepper()).unwrap();
        let secret_part = &t.token.expose_secret()[PAT_PREFIX.len() + LOOKUP_LEN + 1..];
        let shown = format!("{t:?}");
        assert!(!shown.contains(secret_part), "{shown}");
        let p = parse(PAT_PREFIX, t.token.expose_secret()).unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains(secret_part), "{shown}");
        assert!(shown.contains(&t.lookup));
    }
}
