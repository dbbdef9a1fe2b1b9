//! Requests per API key per window (seed 001: 100 a minute), counted in DynamoDB so that every
//! concurrent Lambda instance sees the same count: one conditional UpdateItem per request on a
//! counter for the current fixed window, which expires by TTL.

use std::time::{Duration, SystemTime};

use crate::error::ApiError;
use crate::keys::{self, Key};
use crate::store::Db;
use crate::store::tx::{UpdateError, Write};
use crate::time;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { requests: 100, window: Duration::from_secs(60) }
    }
}

impl RateLimit {
    /// `RATE_LIMIT_PER_MINUTE` (default 100).
    pub fn from_env() -> RateLimit {
        let requests = std::env::var("RATE_LIMIT_PER_MINUTE").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0);
        RateLimit { requests: requests.unwrap_or(100), ..RateLimit::default() }
    }

    /// The window `at` falls in (its start, epoch seconds) and the seconds until it ends.
    pub fn window_at(&self, at: SystemTime) -> (u64, u64) {
        let now = time::epoch_seconds(at);
        let length = self.window.as_secs().max(1);
        let start = now - now % length;
        (start, start + length - now)
    }
}

/// The counter of one API key's requests (named by the key's hash, known before the key is
/// looked up, so that counting and looking up run at once) in the window starting at `start`.
pub fn counter(key_hash: &str, start: u64) -> Key {
    Key { pk: format!("{}{key_hash}", keys::prefix::RATE_LIMIT), sk: start.to_string() }
}

impl Db {
    /// Counts one request of the key; over the limit → 429 with the seconds until the window ends.
    pub async fn count_request(&self, key_hash: &str) -> Result<(), ApiError> {
        let limit = self.rate_limit;
        let (start, retry_after) = limit.window_at(SystemTime::now());
        let write = Write::update("rate_limit", counter(key_hash, start))
            .add("count", keys::value(&1u32)?)
            .set(keys::TTL, keys::expires_after(Duration::from_secs(retry_after + 60)))
            .only_if("attribute_not_exists(#count) OR #count < :limit")
            .value(":limit", keys::value(&limit.requests)?);
        match self.update_returning(write).await {
            Ok(_) => Ok(()),
            Err(UpdateError::Condition(_)) => Err(ApiError::TooManyRequests { limit: limit.requests, window: limit.window.as_secs(), retry_after }),
            Err(UpdateError::Other(err)) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_say_when_they_end() {
        let limit = RateLimit::default();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_017);
        assert_eq!(limit.window_at(at), (1_699_999_980, 23));
        let edge = SystemTime::UNIX_EPOCH + Duration::from_secs(1_699_999_980);
        assert_eq!(limit.window_at(edge), (1_699_999_980, 60));
    }

    #[test]
    fn counters_are_per_key_and_window() {
        assert_ne!(counter("aa", 60), counter("bb", 60));
        assert_ne!(counter("aa", 60), counter("aa", 120));
    }
}
