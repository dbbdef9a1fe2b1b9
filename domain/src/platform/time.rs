//! Timestamps are RFC 3339 UTC with second precision (`2019-08-24T14:15:22Z`, seed 000). In that
//! fixed format, string order is time order, so DynamoDB conditions compare them as strings.

use std::time::{Duration, SystemTime};

pub type Timestamp = String;

pub fn format(at: SystemTime) -> Timestamp {
    humantime::format_rfc3339_seconds(at).to_string()
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
    }
}
