//! Secrets: API keys and invitation tokens. Both are high-entropy random strings, so a plain
//! SHA-256 is enough to store them (no password stretching needed); only the hash is kept.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const API_KEY_PREFIX: &str = "sk_live_";

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is unrecoverable and not caused by any request.
    getrandom::fill(&mut bytes).expect("operating system random source unavailable");
    bytes
}

/// `sk_live_` + 40 hex characters (160 bits).
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", hex::encode(random_bytes::<20>()))
}

/// A URL-safe token of 256 bits, for invitation links.
pub fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality of two stored/computed hashes (lengths are public: both are hex SHA-256).
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_have_the_prefix_and_enough_randomness() {
        let key = new_api_key();
        assert!(key.starts_with("sk_live_"));
        assert!(key.len() - API_KEY_PREFIX.len() >= 32);
        assert_ne!(key, new_api_key());
    }

    #[test]
    fn hashes_are_stable_and_compared_exactly() {
        assert_eq!(hash("a"), hash("a"));
        assert!(hashes_match(&hash("a"), &hash("a")));
        assert!(!hashes_match(&hash("a"), &hash("b")));
        assert!(!hashes_match(&hash("a"), ""));
    }

    #[test]
    fn tokens_are_url_safe() {
        let token = new_token();
        assert!(token.len() >= 43);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
