//! Timestamps are RFC 3339 UTC with second precision (`2019-08-24T14:15:22Z`, seed 000). In that
//! fixed format, string order is time order, so DynamoDB conditions compare them as strings.

use std::time::{Duration, SystemTime};

/// A point in time as the API shows it and the table stores it: RFC 3339 UTC, whole seconds.
/// Made by `format`/`now` (or read back from what they made); it reads as the `str` it is, so
/// comparisons and conditions use it directly.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// `text` if it is a timestamp (a request's `since`, say).
    pub fn parse(text: &str) -> Option<Timestamp> {
        parse(text).map(format)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Timestamp {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Timestamp {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Timestamp> for String {
    fn from(at: Timestamp) -> String {
        at.0
    }
}

impl PartialEq<str> for Timestamp {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Timestamp {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Fixed instants in tests (`"2030-01-01T00:00:00Z".into()`).
#[cfg(test)]
impl From<&str> for Timestamp {
    fn from(text: &str) -> Timestamp {
        Timestamp(text.to_string())
    }
}

pub fn format(at: SystemTime) -> Timestamp {
    Timestamp(humantime::format_rfc3339_seconds(at).to_string())
}

pub fn now() -> Timestamp {
    format(SystemTime::now())
}

pub fn from_now(after: Duration) -> Timestamp {
    format(SystemTime::now() + after)
}

/// A timestamp this module formatted (`None` for anything else).
pub fn parse(at: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(at).ok()
}

/// Seconds since the epoch, for DynamoDB's `ttl` attribute.
pub fn epoch_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_seed() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_566_656_122);
        assert_eq!(format(at), "2019-08-24T14:15:22Z");
    }

    #[test]
    fn string_order_is_time_order() {
        let early = format(SystemTime::UNIX_EPOCH + Duration::from_secs(999_999_999));
        let late = format(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000));
        assert!(early < late);
        assert_eq!(parse(&late), Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000)));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(Timestamp::parse(&late), Some(late.clone()));
        assert_eq!(Timestamp::parse("2019-08-24"), None, "a date is not a timestamp");
    }
}
