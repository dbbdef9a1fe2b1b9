//! Data handed to clients or kept at rest that must be opaque and tamper-evident: list cursors,
//! and the responses kept for idempotent replay (which can hold a secret shown once). Sealed with
//! AES-256-GCM (ring, already linked for TLS) under the stack's secret, bound to a context so
//! that a sealed value opens only where it was issued.

use std::sync::Arc;

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

/// Seals and opens under one key: the stack's `STACK_SECRET` (template.yaml generates it; `Env`
/// builds one `Sealer` per environment), or, unset, a key made for this environment, whose
/// sealed values then open only within it.
#[derive(Clone)]
pub struct Sealer(Arc<LessSafeKey>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn from_secret(secret: Option<&str>) -> Sealer {
        let material: [u8; 32] = match secret {
            Some(secret) => Sha256::digest(secret.as_bytes()).into(),
            None => {
                tracing::warn!("STACK_SECRET is not set: cursors and kept responses are valid in this process only");
                let mut random = [0; 32];
                let _ = getrandom::fill(&mut random);
                random
            }
        };
        Sealer(Arc::new(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &material).unwrap_or_else(|_| unreachable!("AES-256 takes 32 bytes")))))
    }

    /// `plaintext` sealed for `context`, as URL-safe base64 (nonce, ciphertext, tag).
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Option<String> {
        let mut nonce = [0; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let mut sealed = plaintext.to_vec();
        self.0.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut sealed).ok()?;
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([&nonce[..], &sealed].concat()))
    }

    /// The plaintext, if `sealed` was sealed for `context` under this key and is unaltered.
    pub fn open(&self, context: &[u8], sealed: &str) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plaintext = self.0.open_in_place(nonce, Aad::from(context), &mut sealed).ok()?;
        Some(plaintext.to_vec())
    }
}

/// Whether `text` has the shape of a sealed value (base64 of a nonce, at least a byte, a tag):
/// checked before anything is looked up; `open` is what proves it genuine.
pub fn looks_sealed(text: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).is_ok_and(|bytes| bytes.len() > NONCE_LEN + AES_256_GCM.tag_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_unaltered() {
        let sealer = Sealer::from_secret(Some("s"));
        let (seal, open) = (|c: &[u8], p: &[u8]| sealer.seal(c, p), |c: &[u8], s: &str| sealer.open(c, s));
        let sealed = seal(b"list A", b"INVITATION#x").unwrap();
        assert_eq!(open(b"list A", &sealed).as_deref(), Some(&b"INVITATION#x"[..]));
        assert_eq!(open(b"list B", &sealed), None, "another context");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("INVITATION"), "nothing in the clear");
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 1;
            assert_eq!(open(b"list A", &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered)), None, "byte {i} altered");
        }
        assert_eq!(open(b"list A", "not base64!"), None);
        assert_eq!(open(b"list A", ""), None);
        assert_ne!(seal(b"list A", b"x"), seal(b"list A", b"x"), "a fresh nonce each time");
        assert!(looks_sealed(&sealed) && looks_sealed(&seal(b"list A", b"x").unwrap()));
        assert_eq!(Sealer::from_secret(Some("s")).open(b"list A", &sealed).as_deref(), Some(&b"INVITATION#x"[..]), "the same secret opens it");
        assert_eq!(Sealer::from_secret(Some("t")).open(b"list A", &sealed), None, "another stack's does not");
        assert!(!looks_sealed("junk") && !looks_sealed("not base64!") && !looks_sealed(""), "too short or not base64");
    }
}
