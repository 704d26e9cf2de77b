//! Signing secrets: `whsec_` + base64 of 32 random bytes, stored sealed with
//! ChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the server pepper. A sealed value
//! is `nonce (12 bytes) ‖ ciphertext ‖ tag`; a changed pepper makes old secrets unreadable
//! (deliveries then fail until the secret is rotated), never readable by someone else.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domain::ports::StoreError;
use domain::webhook_service::SecretBox;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

/// The [`SecretBox`] the server wires.
pub struct SealedSecrets {
    key: LessSafeKey,
    rng: SystemRandom,
}

fn err(what: &str) -> StoreError {
    StoreError::Unknown(anyhow::anyhow!("webhook secret: {what}"))
}

impl SealedSecrets {
    /// Derives the sealing key from the pepper bytes.
    pub fn new(pepper: &[u8]) -> Result<Self, StoreError> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"slotbook webhook secrets");
        let prk = salt.extract(pepper);
        let info = [b"v1".as_slice()];
        let okm = prk
            .expand(&info, &aead::CHACHA20_POLY1305)
            .map_err(|_| err("key derivation"))?;
        let mut bytes = [0u8; 32];
        okm.fill(&mut bytes).map_err(|_| err("key derivation"))?;
        let key = UnboundKey::new(&aead::CHACHA20_POLY1305, &bytes).map_err(|_| err("key"))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }
}

impl SecretBox for SealedSecrets {
    fn generate(&self) -> Result<String, StoreError> {
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw).map_err(|_| err("random"))?;
        Ok(format!("whsec_{}", STANDARD.encode(raw)))
    }

    fn seal(&self, secret: &str) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; 12];
        self.rng.fill(&mut nonce).map_err(|_| err("random"))?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| err("seal"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    fn open(&self, sealed: &[u8]) -> Result<String, StoreError> {
        if sealed.len() < 12 {
            return Err(err("sealed value too short"));
        }
        let (nonce, rest) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| err("nonce"))?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| err("cannot open (was the pepper changed?)"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| err("not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_have_the_contract_shape_and_round_trip() {
        let b = SealedSecrets::new(b"pepper-pepper-pepper-pepper-pepper").unwrap();
        let s = b.generate().unwrap();
        let raw = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
        let sealed = b.seal(&s).unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"whsec_"),
            "stored in the clear"
        );
        assert_eq!(b.open(&sealed).unwrap(), s);
        let other = SealedSecrets::new(b"another-pepper-another-pepper-xx").unwrap();
        assert!(other.open(&sealed).is_err());
        assert_ne!(b.generate().unwrap(), s);
    }
}
