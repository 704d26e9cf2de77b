//! Personal access tokens: `42min_pat_<lookup12>_<secret32>` (§2.2), the [`crate::token`]
//! format with the `42min_pat_` prefix.

use crate::token::{self, PAT_PREFIX};
use crate::{AuthError, Pepper};

pub use crate::token::{NewToken as NewPat, ParsedToken};

/// Total length of a personal access token (55 characters).
pub const TOKEN_LEN: usize = PAT_PREFIX.len() + token::LOOKUP_LEN + 1 + token::SECRET_LEN;

/// Mints a new personal access token.
pub fn generate(pepper: &Pepper) -> Result<NewPat, AuthError> {
    token::generate(PAT_PREFIX, pepper)
}

/// Splits a personal access token; anything but the exact format is `MalformedToken`.
pub fn parse(token: &str) -> Result<ParsedToken, AuthError> {
    token::parse(PAT_PREFIX, token)
}

/// HMAC-SHA256(pepper, secret).
pub fn hash_secret(pepper: &Pepper, secret: &str) -> Vec<u8> {
    token::hash_secret(pepper, secret)
}

/// Constant-time check of the token's secret against the stored hash.
pub fn verify(pepper: &Pepper, parsed: &ParsedToken, stored_hash: &[u8]) -> bool {
    token::verify(pepper, parsed, stored_hash)
}

/// The domain's [`TokenSecrets`](domain::token_service::TokenSecrets) port: personal access
/// token formats and peppered hashes.
#[derive(Debug, Clone)]
pub struct PatSecrets {
    pepper: Pepper,
}

impl PatSecrets {
    pub fn new(pepper: Pepper) -> Self {
        Self { pepper }
    }
}

impl domain::token_service::TokenSecrets for PatSecrets {
    fn mint(&self) -> anyhow::Result<domain::token_service::MintedSecret> {
        use secrecy::ExposeSecret as _;
        let t = generate(&self.pepper)?;
        Ok(domain::token_service::MintedSecret {
            token: domain::token_service::TokenText::new(t.token.expose_secret()),
            lookup: t.lookup,
            secret_hash: t.secret_hash,
            last_four: t.last_four,
        })
    }

    fn parse(&self, token: &str) -> Option<domain::token_service::PresentedToken> {
        let parsed = parse(token).ok()?;
        Some(domain::token_service::PresentedToken {
            lookup: parsed.lookup,
            token: domain::token_service::TokenText::new(token),
        })
    }

    fn verify(
        &self,
        presented: &domain::token_service::PresentedToken,
        stored_hash: &[u8],
    ) -> bool {
        parse(presented.token.expose()).is_ok_and(|p| verify(&self.pepper, &p, stored_hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    fn pepper() -> Pepper {
        Pepper::new(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    #[test]
    fn generated_tokens_have_the_contract_shape() {
        let t = generate(&pepper()).unwrap();
        let s = t.token.expose_secret();
        assert_eq!(s.len(), TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 55);
        assert!(s.starts_with("42min_pat_"));
        assert_eq!(&s[10..22], t.lookup);
        assert_eq!(&s[22..23], "_");
        assert!(s[10..22].chars().all(|c| ALPHABET.contains(c)));
        assert!(s[23..].chars().all(|c| ALPHABET.contains(c)));
        assert_eq!(t.last_four, &s[s.len() - 4..]);
        assert_eq!(t.secret_hash, hash_secret(&pepper(), &s[23..]));
        assert_eq!(t.secret_hash.len(), 32);
    }

    #[test]
    fn two_tokens_differ() {
        let a = generate(&pepper()).unwrap();
        let b = generate(&pepper()).unwrap();
        assert_ne!(a.lookup, b.lookup);
        assert_ne!(a.token.expose_secret(), b.token.expose_secret());
    }

    #[test]
    fn the_documented_example_is_only_a_sketch() {
        // The help page's example has a 28-character secret; the format says 32, and tokens
        // we mint always have 32, so the example itself is refused as malformed.
        assert_eq!(
            parse("42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJK").unwrap_err(),
            AuthError::MalformedToken
        );
        let p = parse("42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ").unwrap();
        assert_eq!(p.lookup, "ABCDEFGHJKMN");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ";
        assert!(parse(good).is_ok());
        for bad in [
            "",
            "42min_pat_",
            "42min_at_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42MIN_PAT_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            // lowercase
            "42min_pat_abcdefghjkmn_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42min_pat_ABCDEFGHJKMN_pqrstvwxyz23456789ABCDEFGHJKMNPQ",
            // letters outside Crockford (I, L, O, U)
            "42min_pat_ABCDEFGHIKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPU",
            // wrong separator / lengths
            "42min_pat_ABCDEFGHJKMN-PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42min_pat_ABCDEFGHJKM_NPQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNP",
            "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQP",
            " 42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ",
            "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ ",
            "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNÄ",
        ] {
            assert_eq!(
                parse(bad).unwrap_err(),
                AuthError::MalformedToken,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn verify_needs_the_right_hash() {
        let t = generate(&pepper()).unwrap();
        let p = parse(t.token.expose_secret()).unwrap();
        assert!(verify(&pepper(), &p, &t.secret_hash));
        assert!(!verify(&pepper(), &p, &[]));
        assert!(!verify(&pepper(), &p, &t.secret_hash[..31]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip_and_tamper(pos in 0usize..TOKEN_LEN, pick in 0usize..32) {
            let t = generate(&pepper()).unwrap();
            let token = t.token.expose_secret().to_owned();
            let parsed = parse(&token).unwrap();
            prop_assert_eq!(&parsed.lookup, &t.lookup);
            prop_assert!(verify(&pepper(), &parsed, &t.secret_hash));

            // A wrong pepper never verifies.
            let other = Pepper::new(b"another-pepper-another-pepper-xx".to_vec());
            prop_assert!(!verify(&other, &parsed, &t.secret_hash));

            // Changing any single character of the secret breaks verification; changing the
            // prefix, separator or lookup breaks the parse or (for the lookup) names another row.
            let mut chars: Vec<char> = token.chars().collect();
            let original = chars[pos];
            let mut replacement = char::from(ALPHABET.as_bytes()[pick]);
            if replacement == original {
                replacement = char::from(ALPHABET.as_bytes()[(pick + 1) % 32]);
            }
            chars[pos] = replacement;
            let tampered: String = chars.into_iter().collect();
            match parse(&tampered) {
                Err(_) => {}
                Ok(p) if pos >= 23 => prop_assert!(!verify(&pepper(), &p, &t.secret_hash)),
                Ok(p) => prop_assert_ne!(p.lookup, t.lookup),
            }
        }
    }
}
