//! Requests per API key per window (seed 001: 100 a minute): the limit and its fixed windows.
//! The store counts them (`store::rate_limits`).

use std::time::{Duration, SystemTime};

use crate::platform::config::Env;
use crate::platform::time;

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
    /// `RATE_LIMIT_PER_MINUTE` (default 100) in a window of `RATE_LIMIT_WINDOW_SECONDS` (default 60:
    /// the tests shorten it); unset, empty or not a positive number: the default.
    pub fn from_env(env: &Env) -> RateLimit {
        let default = RateLimit::default();
        let requests = env.optional("RATE_LIMIT_PER_MINUTE").and_then(|v| v.parse().ok()).filter(|n| *n > 0);
        let seconds = env.optional("RATE_LIMIT_WINDOW_SECONDS").and_then(|v| v.parse().ok()).filter(|n| *n > 0);
        RateLimit { requests: requests.unwrap_or(default.requests), window: seconds.map_or(default.window, Duration::from_secs) }
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

}
