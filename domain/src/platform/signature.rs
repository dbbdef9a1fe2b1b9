//! Webhook signatures, both ways: the 360onboard scheme (`X-360onboard-Signature: sha256=<hex>`,
//! seed 001) and Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64>` over `id.timestamp.body`).
//!
//! Verification works on the raw body bytes, parses the header strictly (lengths first: an empty,
//! truncated or bare-prefix signature is never compared) and compares MACs in constant time.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const ONBOARD_PREFIX: &str = "sha256=";
/// Standard Webhooks' replay window, in both directions.
pub const TOLERANCE_SECONDS: u64 = 5 * 60;
/// Standard Webhooks secrets are `whsec_` + base64 of the key bytes.
pub const STANDARD_SECRET_PREFIX: &str = "whsec_";

const MAC_LEN: usize = 32;

/// Why a signature was refused. Told to the sender only as "authentication failed"; the
/// variant goes to the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Mismatch,
    /// The timestamp is outside the tolerance (a replay, or a badly wrong clock).
    Stale,
}

impl SignatureError {
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "signature or token header missing",
            SignatureError::Malformed => "signature header malformed",
            SignatureError::Mismatch => "signature or token does not match",
            SignatureError::Stale => "webhook-timestamp outside the 5-minute tolerance",
        }
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// `sha256=<hex HMAC-SHA256 of body>`, the key being the secret's UTF-8 bytes (as the seed's
/// Node.js and Python examples use it).
pub fn sign_onboard(secret: &str, body: &[u8]) -> String {
    format!("{ONBOARD_PREFIX}{}", hex::encode(mac(secret.as_bytes(), &[body]).finalize().into_bytes()))
}

/// The 32 MAC bytes of an `X-360onboard-Signature` value: exactly `sha256=` and 64 hex digits.
pub fn parse_onboard(header: &str) -> Result<[u8; MAC_LEN], SignatureError> {
    let hex_digits = header.trim().strip_prefix(ONBOARD_PREFIX).ok_or(SignatureError::Malformed)?;
    if hex_digits.len() != MAC_LEN * 2 {
        return Err(SignatureError::Malformed);
    }
    let mut bytes = [0u8; MAC_LEN];
    hex::decode_to_slice(hex_digits, &mut bytes).map_err(|_| SignatureError::Malformed)?;
    Ok(bytes)
}

pub fn verify_onboard(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let presented = parse_onboard(header.ok_or(SignatureError::Missing)?)?;
    mac(secret.as_bytes(), &[body]).verify_slice(&presented).map_err(|_| SignatureError::Mismatch)
}

/// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`; a secret without the
/// prefix (one an account supplied) is used as its UTF-8 bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(STANDARD_SECRET_PREFIX)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
pub fn new_standard_secret() -> String {
    format!("{STANDARD_SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(crate::platform::secret::random_bytes::<32>()))
}

/// `v1,<base64>` for one secret.
pub fn sign_standard(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(&standard_key(secret), &[id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body]).finalize().into_bytes();
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag))
}

/// The `v1` MACs of a `webhook-signature` value (space-separated, several during a secret
/// rotation); other versions are skipped, a `v1` entry that is not 32 bytes of base64 is malformed.
pub fn parse_standard(header: &str) -> Result<Vec<[u8; MAC_LEN]>, SignatureError> {
    let mut macs = vec![];
    for entry in header.split_ascii_whitespace() {
        let Some((version, b64)) = entry.split_once(',') else { return Err(SignatureError::Malformed) };
        if version != "v1" {
            continue;
        }
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| SignatureError::Malformed)?;
        macs.push(<[u8; MAC_LEN]>::try_from(bytes.as_slice()).map_err(|_| SignatureError::Malformed)?);
    }
    if macs.is_empty() { Err(SignatureError::Malformed) } else { Ok(macs) }
}

/// The Standard Webhooks headers of a delivery.
#[derive(Clone, Copy, Debug)]
pub struct StandardHeaders<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// Checks the timestamp against `now` (epoch seconds) and any `v1` signature against the secret.
pub fn verify_standard(secret: &str, headers: StandardHeaders<'_>, body: &[u8], now: u64) -> Result<(), SignatureError> {
    if headers.id.is_empty() || headers.id.len() > 256 {
        return Err(SignatureError::Malformed);
    }
    let timestamp: u64 = headers.timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if timestamp.abs_diff(now) > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let key = standard_key(secret);
    let expected = mac(&key, &[headers.id.as_bytes(), b".", headers.timestamp.as_bytes(), b".", body]);
    let matched = parse_standard(headers.signature)?.iter().any(|presented| expected.clone().verify_slice(presented).is_ok());
    if matched { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"event":"client.created","data":{"client_id":"770e"},"timestamp":"2024-01-15T09:00:00Z"}"#;

    #[test]
    fn onboard_signatures_verify_and_refuse_every_kind_of_bad_header() {
        let good = sign_onboard(SECRET, BODY);
        assert_eq!(verify_onboard(SECRET, BODY, Some(&good)), Ok(()));
        let mut tampered_body = BODY.to_vec();
        tampered_body[3] ^= 1;
        assert_eq!(verify_onboard(SECRET, &tampered_body, Some(&good)), Err(SignatureError::Mismatch));
        let flipped = format!("{}{}", &good[..good.len() - 1], if good.ends_with('0') { '1' } else { '0' });
        assert_eq!(verify_onboard(SECRET, BODY, Some(&flipped)), Err(SignatureError::Mismatch));
        assert_eq!(verify_onboard("another secret", BODY, Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_onboard(SECRET, BODY, None), Err(SignatureError::Missing));
        for bad in ["", "sha256=", &good[..good.len() - 2], &good["sha256=".len()..], &good.replace("sha256=", "sha1="), &format!("{good}00"), &good.replacen('a', "g", 1)] {
            assert_eq!(verify_onboard(SECRET, BODY, Some(bad)), Err(SignatureError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn onboard_signature_matches_an_independent_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign_onboard("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn standard_webhooks_verify_with_tolerance_and_rotation() {
        let now = 1_700_000_000;
        let signature = sign_standard(SECRET, "msg_1", now, BODY);
        let headers = |timestamp: &'static str, signature: &str| StandardHeaders { id: "msg_1", timestamp, signature: Box::leak(signature.to_string().into_boxed_str()) };
        assert_eq!(verify_standard(SECRET, headers("1700000000", &signature), BODY, now), Ok(()));
        assert_eq!(verify_standard(SECRET, headers("1700000000", &signature), BODY, now + 300), Ok(()));
        assert_eq!(verify_standard(SECRET, headers("1700000000", &signature), BODY, now + 301), Err(SignatureError::Stale));
        assert_eq!(verify_standard(SECRET, headers("1700000000", &signature), BODY, now - 301), Err(SignatureError::Stale));
        let rotated = format!("v1,{} {signature}", base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
        assert_eq!(verify_standard(SECRET, headers("1700000000", &rotated), BODY, now), Ok(()));
        let other = sign_standard("whsec_b3RoZXI=", "msg_1", now, BODY);
        assert_eq!(verify_standard(SECRET, headers("1700000000", &other), BODY, now), Err(SignatureError::Mismatch));
        for bad in ["", "v1,", "v1", "v1,AAAA", "v2,abc"] {
            assert_eq!(verify_standard(SECRET, headers("1700000000", bad), BODY, now), Err(SignatureError::Malformed), "{bad:?}");
        }
        assert_eq!(verify_standard(SECRET, headers("soon", &signature), BODY, now), Err(SignatureError::Malformed));
    }

    #[test]
    fn standard_keys_decode_whsec_secrets() {
        assert_eq!(standard_key("whsec_aGVsbG8="), b"hello");
        assert_eq!(standard_key("plain secret"), b"plain secret");
        assert!(new_standard_secret().starts_with("whsec_"));
    }
}
