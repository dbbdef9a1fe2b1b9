//! Resource ids: 24 lowercase hex characters (seed 000's `^[0-9a-fA-F]{24}$`), time-ordered so
//! that a descending Query on `<TYPE>#<id>` sort keys lists newest first.
//!
//! Layout (12 bytes): 6 bytes of Unix milliseconds, 2 bytes of a per-process counter (orders ids
//! made in the same millisecond by one process), 4 random bytes (keeps concurrent processes apart).

use std::fmt;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

use crate::Refusal;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Id(String);

static COUNTER: AtomicU16 = AtomicU16::new(0);

impl Id {
    pub fn generate() -> Id {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) as u64;
        let mut bytes = [0u8; 12];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        bytes[6..8].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        bytes[8..].copy_from_slice(&crate::platform::secret::random_bytes::<4>());
        Id(hex::encode(bytes))
    }

    /// Accepts either case (the seed's pattern does) and normalizes to lowercase.
    pub fn parse(s: &str) -> Option<Id> {
        (s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Id(s.to_ascii_lowercase()))
    }

    /// An id taken from a URL path: a malformed one is the caller's mistake (400), not a miss.
    pub fn from_path(s: &str) -> Result<Id, Refusal> {
        Id::parse(s).ok_or_else(|| Refusal::Malformed(format!("'{s}' is not a valid id (24 hex characters)")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Id::parse(&s).ok_or_else(|| serde::de::Error::custom("must be 24 hex characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_24_lowercase_hex_and_ordered() {
        let ids: Vec<Id> = (0..1000).map(|_| Id::generate()).collect();
        for id in &ids {
            assert_eq!(id.as_str().len(), 24);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids from one process must increase");
    }

    #[test]
    fn parse_accepts_the_seed_pattern_and_normalizes() {
        assert_eq!(Id::parse("64B8F0F5E4B0C3A1D5E6F7A8").unwrap().as_str(), "64b8f0f5e4b0c3a1d5e6f7a8");
        for bad in ["", "64b8f0f5e4b0c3a1d5e6f7a", "64b8f0f5e4b0c3a1d5e6f7a8a", "zzb8f0f5e4b0c3a1d5e6f7a8", "../../etc/passwd"] {
            assert!(Id::parse(bad).is_none(), "{bad}");
        }
        assert!(matches!(Id::from_path("nope").unwrap_err(), Refusal::Malformed(_)));
    }

    #[test]
    fn deserializing_a_bad_id_names_the_problem() {
        let err = serde_json::from_str::<Id>("\"abc\"").unwrap_err();
        assert!(err.to_string().contains("24 hex"));
    }
}
