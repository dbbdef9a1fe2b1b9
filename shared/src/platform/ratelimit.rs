//! Requests per API key per window (seed 001: 100 a minute): the limit and its fixed windows.
//! The store counts them (`store::rate_limits`).

use std::time::{Duration, SystemTime};

use crate::platform::config::Env;
use crate::platform::time;

/// The writes a second one counter takes at most: well under the 1,000 a partition serves, since
/// refused requests write too.
pub const WRITES_PER_SHARD: u64 = 250;
/// The most counters one key's window is spread over.
pub const MAX_SHARDS: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
    /// Counters per window, where the operator (or a test) sets them (`RATE_LIMIT_SHARDS`);
    /// `None`: as many as the limit needs.
    pub shards: Option<u32>,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { requests: 100, window: Duration::from_secs(60), shards: None }
    }
}

impl RateLimit {
    /// `RATE_LIMIT_PER_MINUTE` (default 100) in a window of `RATE_LIMIT_WINDOW_SECONDS` (default 60:
    /// the tests shorten it), over `RATE_LIMIT_SHARDS` counters (default: as the limit needs);
    /// unset, empty or out of range: the default.
    pub fn from_env(env: &Env) -> RateLimit {
        let default = RateLimit::default();
        let requests = env.optional("RATE_LIMIT_PER_MINUTE").and_then(|v| v.parse().ok()).filter(|n| *n > 0);
        let seconds = env.optional("RATE_LIMIT_WINDOW_SECONDS").and_then(|v| v.parse().ok()).filter(|n| *n > 0);
        let shards = env.optional("RATE_LIMIT_SHARDS").and_then(|v| v.parse().ok()).filter(|n| (1..=MAX_SHARDS).contains(n));
        RateLimit { requests: requests.unwrap_or(default.requests), window: seconds.map_or(default.window, Duration::from_secs), shards }
    }

    /// How many counters share one key's window, each in a partition of its own: one while the
    /// limit is at most `WRITES_PER_SHARD` a second (exact: today's 100 a minute), more for a busy
    /// partner's, so that no counter takes more writes than one partition serves.
    pub fn shards(&self) -> u32 {
        if let Some(shards) = self.shards {
            return shards.clamp(1, MAX_SHARDS);
        }
        let per_second = u64::from(self.requests).div_ceil(self.window.as_secs().max(1));
        u32::try_from(per_second.div_ceil(WRITES_PER_SHARD)).unwrap_or(u32::MAX).clamp(1, MAX_SHARDS)
    }

    /// What one shard admits in a window: its share of the limit, rounded up (the key is admitted
    /// at most `shards - 1` requests over the limit, and refused early only when the random
    /// choice of shards is uneven — with one shard, never).
    pub fn per_shard(&self) -> u32 {
        self.requests.div_ceil(self.shards())
    }

    /// The window `at` falls in (its start, epoch seconds) and the seconds until it ends.
    pub fn window_at(&self, at: SystemTime) -> (u64, u64) {
        let now = time::epoch_seconds(at);
        let length = self.window.as_secs().max(1);
        let start = now - now % length;
        (start, start + length - now)
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
    fn a_busy_keys_window_is_spread_over_counters_a_partition_can_serve() {
        let per_minute = |requests| RateLimit { requests, window: Duration::from_secs(60), shards: None };
        assert_eq!((per_minute(100).shards(), per_minute(100).per_shard()), (1, 100), "the seed's limit: one exact counter");
        assert_eq!(per_minute(15_000).shards(), 1, "250 a second");
        assert_eq!((per_minute(60_000).shards(), per_minute(60_000).per_shard()), (4, 15_000), "1,000 a second");
        assert_eq!(per_minute(600_000).shards(), 40);
        assert_eq!(per_minute(u32::MAX).shards(), MAX_SHARDS);
        for requests in [1, 7, 100, 59_999, 60_001, 1_000_000] {
            let limit = per_minute(requests);
            let admitted = limit.per_shard() * limit.shards();
            assert!(admitted >= requests && admitted < requests + limit.shards(), "{requests}: {admitted}");
        }
    }

}
