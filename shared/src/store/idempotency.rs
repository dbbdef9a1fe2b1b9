//! Idempotency keys in the table (what a key answers: `crate::platform::idempotency`).
//!
//! A key is claimed by one request (a random claim token), and the transaction that commits that
//! request's effect also marks the key done (`done_at`), conditioned on the claim still being
//! that request's: the effect and the key's record of it are one atomic fact. Where the answer is
//! known before the commit (a lead's receipt), it is written in that same transaction; otherwise
//! it is saved right after, and a retry that finds the key done without an answer is told so
//! (409) instead of doing the work again.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::time;
use crate::store::Db;
use crate::store::keys::{self, ItemType, Key, TTL};
use crate::store::tx::{Part, UpdateError, Write, amend_first_commit, with_first_commit};

/// How long a key replays its first response.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 3600);
/// A claim older than this whose request committed nothing (its function timed out or crashed)
/// may be taken over: longer than any function's timeout. Taking over is safe even if the first
/// request is still running: its commit is conditioned on its claim, which the takeover replaced.
pub const LEASE: Duration = Duration::from_secs(60);

/// A key as stored: claimed by a request that is still running, done (its effect committed),
/// and answered (the response, sealed: it can hold a secret shown once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub fingerprint: String,
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub done_at: Option<String>,
}

/// The claim a running request holds on its key.
#[derive(Clone, Debug)]
pub struct Claim {
    key: Key,
    token: String,
}

/// What a request under a claim committed: its effect (and the key's record of it), and whether
/// its answer went with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    pub effect: bool,
    pub answer: bool,
}

/// Runs `work` (one request's handling) under `claim`: its first committed transaction marks the
/// key done, atomically with the effect, conditioned on the claim still being this request's.
pub async fn under_claim<T>(claim: Claim, work: impl Future<Output = T>) -> (T, Committed) {
    let done = Write::update(Part::IdempotencyKey, claim.key.clone())
        .set("done_at", keys::string(time::now().as_str()))
        .only_if("#claim = :claim")
        .value(":claim", keys::string(&claim.token));
    let (result, carried) = with_first_commit(done, claim.token, work).await;
    (result, Committed { effect: carried.committed, answer: carried.amended })
}

/// The request's answer, sealed, to be written by the transaction that commits its effect (it
/// must come before that commit; after it, or outside a claim, it does nothing).
pub fn answer_with_effect(sealed: String) {
    amend_first_commit(|done| done.set("response", keys::string(&sealed)));
}

impl Db {
    /// Claims the key for a request with `fingerprint`, in one conditional write: `Ok(claim)`
    /// when the request is to run; otherwise the record that holds it. An expired key (TTL
    /// deletes late) or an abandoned claim that committed nothing counts as free.
    pub async fn claim_idempotency_key(&self, account: &Id, key_hash: &str, fingerprint: &str) -> Result<Result<Claim, KeyRecord>, ApiError> {
        let now = time::epoch_seconds(SystemTime::now());
        let claim = Claim { key: keys::idempotency_key(account, key_hash), token: Id::generate().to_string() };
        let write = Write::update(Part::IdempotencyKey, claim.key.clone())
            .set("fingerprint", keys::string(fingerprint))
            .set("claim", keys::string(&claim.token))
            .set("claimed_at", keys::value(&now)?)
            .set(TTL, keys::value(&(now + KEY_TTL.as_secs()))?)
            .set(keys::TYPE, keys::string(ItemType::IdempotencyKey.as_str()))
            .remove("response")
            .remove("done_at")
            .only_if("attribute_not_exists(#pk) OR #ttl < :now OR (attribute_not_exists(#response) AND attribute_not_exists(#done_at) AND #claimed_at < :abandoned)")
            .value(":now", keys::value(&now)?)
            .value(":abandoned", keys::value(&now.saturating_sub(LEASE.as_secs()))?);
        match self.update_returning(write).await {
            Ok(_) => Ok(Ok(claim)),
            Err(UpdateError::Condition(Some(item))) => Ok(Err(keys::parse(item)?)),
            Err(UpdateError::Condition(None)) => Err(ApiError::Internal("idempotency key claim refused without an item".into())),
            Err(UpdateError::Other(err)) => Err(err),
        }
    }

    /// The response the key replays from now on (sealed), if the claim is still this request's.
    pub async fn save_idempotent_response(&self, claim: &Claim, sealed_response: &str) -> Result<(), ApiError> {
        let write = Write::update(Part::IdempotencyKey, claim.key.clone()).set("response", keys::string(sealed_response)).only_if("#claim = :claim").value(":claim", keys::string(&claim.token));
        self.update_returning(write).await.map(drop).map_err(|err| match err {
            UpdateError::Other(e) => e,
            UpdateError::Condition(_) => ApiError::Conflict("this request's Idempotency-Key was taken over by a retry".into()),
        })
    }

    /// Frees the key after a request that committed nothing, so that a retry runs (unless a
    /// retry has taken the key over already).
    pub async fn release_idempotency_key(&self, claim: &Claim) -> Result<(), ApiError> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(claim.key.to_item()))
            // A key marked done stays: its effect may have committed although this request saw
            // its transaction fail (a lost response, a timeout).
            .condition_expression("#claim = :claim AND attribute_not_exists(#done_at)")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_names("#done_at", "done_at")
            .expression_attribute_values(":claim", keys::string(&claim.token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
