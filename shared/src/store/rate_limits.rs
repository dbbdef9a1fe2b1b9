//! Requests counted per API key in DynamoDB, so that every concurrent Lambda instance sees the same
//! count: one conditional UpdateItem per request on a counter for the current fixed window, which
//! expires by TTL. A busy key's window is spread over several counters, each in a partition of its
//! own, each request counted on one picked at random (`RateLimit::shards`): no counter takes more
//! writes than a partition serves.

use std::time::{Duration, SystemTime};

use crate::store::Db;
use crate::store::tx::{Part, UpdateError, Write};
use crate::platform::error::ApiError;
use crate::store::keys;

impl Db {
    /// Counts one request of the key; over the limit → 429 with the seconds until the window ends.
    pub async fn count_request(&self, key_hash: &str) -> Result<(), ApiError> {
        let limit = self.rate_limit;
        let (start, retry_after) = limit.window_at(SystemTime::now());
        let shard = u32::from_be_bytes(crate::platform::secret::random_bytes::<4>()) % limit.shards();
        let write = Write::update(Part::RateLimit, keys::rate_limit_counter(key_hash, shard, start))
            .add("count", keys::value(&1u32)?)
            .set(keys::TTL, keys::expires_after(Duration::from_secs(retry_after + 60)))
            .only_if("attribute_not_exists(#count) OR #count < :limit")
            .value(":limit", keys::value(&limit.per_shard())?);
        match self.update_returning(write).await {
            Ok(_) => Ok(()),
            Err(UpdateError::Condition(_)) => Err(ApiError::TooManyRequests { limit: limit.requests, window: limit.window.as_secs(), retry_after }),
            Err(UpdateError::Other(err)) => Err(err),
        }
    }
}
