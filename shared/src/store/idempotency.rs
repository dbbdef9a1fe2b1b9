//! Idempotency keys in the table (what a key answers: `crate::platform::idempotency`).

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::store::Db;
use crate::store::tx::{Part, UpdateError, Write};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, TTL};
use crate::platform::time;

/// How long a key replays its first response.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 3600);
/// A claim older than this whose request never finished (its function timed out or crashed) may
/// be taken over: longer than any function's timeout.
pub const LEASE: Duration = Duration::from_secs(60);

/// A key as stored: claimed by a request that is still running, or done with its response,
/// sealed (it can hold a secret shown once, which is never stored in the clear).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub fingerprint: String,
    #[serde(default)]
    pub response: Option<String>,
}

impl Db {
    /// Claims the key for a request with `fingerprint`, in one conditional write: `None` when
    /// the request is to run; otherwise the record that holds it. An expired key (TTL deletes
    /// late) or an abandoned claim counts as free.
    pub async fn claim_idempotency_key(&self, account: &Id, key_hash: &str, fingerprint: &str) -> Result<Option<KeyRecord>, ApiError> {
        let now = time::epoch_seconds(SystemTime::now());
        let write = Write::update(Part::IdempotencyKey, keys::idempotency_key(account, key_hash))
            .set("fingerprint", keys::string(fingerprint))
            .set("claimed_at", keys::value(&now)?)
            .set(TTL, keys::value(&(now + KEY_TTL.as_secs()))?)
            .set(keys::TYPE, keys::string(ItemType::IdempotencyKey.as_str()))
            .remove("response")
            .only_if("attribute_not_exists(#pk) OR #ttl < :now OR (attribute_not_exists(#response) AND #claimed_at < :abandoned)")
            .value(":now", keys::value(&now)?)
            .value(":abandoned", keys::value(&now.saturating_sub(LEASE.as_secs()))?);
        match self.update_returning(write).await {
            Ok(_) => Ok(None),
            Err(UpdateError::Condition(Some(item))) => Ok(Some(keys::parse(item)?)),
            Err(UpdateError::Condition(None)) => Err(ApiError::Internal("idempotency key claim refused without an item".into())),
            Err(UpdateError::Other(err)) => Err(err),
        }
    }

    /// The response the key replays from now on (sealed).
    pub async fn save_idempotent_response(&self, account: &Id, key_hash: &str, sealed_response: &str) -> Result<(), ApiError> {
        let write = Write::update(Part::IdempotencyKey, keys::idempotency_key(account, key_hash)).set("response", keys::string(sealed_response));
        self.update_returning(write).await.map(drop).map_err(|err| match err {
            UpdateError::Other(e) => e,
            UpdateError::Condition(_) => ApiError::Internal("unconditional update refused".into()),
        })
    }

    /// Frees the key after a failed request, so that a retry runs.
    pub async fn release_idempotency_key(&self, account: &Id, key_hash: &str) -> Result<(), ApiError> {
        self.client().delete_item().table_name(&self.table).set_key(Some(keys::idempotency_key(account, key_hash).to_item())).send().await?;
        Ok(())
    }
}
