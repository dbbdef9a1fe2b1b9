//! Identity-verification sessions: registered by the account, advanced by Incode's webhooks.

use super::ProviderWebhooksTable;
use crate::store::tx::{Part, TxError, Write, busy};
use crate::provider_webhooks::domain::verification::{self, VerificationSession};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType};
use crate::platform::time;

/// `POST /verification-sessions`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    /// Incode's `interviewId`.
    pub interview_id: String,
    /// The `externalCustomerId` given to Incode's omni/start, if any.
    pub external_customer_id: Option<String>,
    /// The caller's onboard this verification belongs to.
    pub onboard_id: Option<Id>,
    /// Or the caller's client (client onboarding).
    pub client_id: Option<Id>,
}

impl ProviderWebhooksTable<'_> {
    /// Registers an interview. One a webhook already reported (created unregistered) is adopted
    /// with its history; one registered before is a 409.
    pub async fn register_verification_session(&self, account: &Id, body: SessionBody) -> Result<VerificationSession, ApiError> {
        let interview_id = verification::interview_id("interview_id", &body.interview_id)?;
        if body.external_customer_id.as_ref().is_some_and(|e| e.is_empty() || e.chars().count() > 256) {
            return Err(ApiError::validation("external_customer_id", "must be 1-256 characters"));
        }
        let key = keys::verification_session(account, &interview_id);
        let fresh = VerificationSession {
            external_customer_id: body.external_customer_id.clone(),
            onboard_id: body.onboard_id.clone(),
            client_id: body.client_id.clone(),
            ..VerificationSession::new(interview_id.clone(), true, time::now())
        };
        // The usual case, a new interview, is one conditional write.
        match self.put_session(account, &key, &fresh, None).await {
            Err(TxError::Condition(Part::Session)) => {}
            other => return other.map(|()| fresh).map_err(|err| session_error(err, &interview_id)),
        }
        let existing: VerificationSession = self.db.get_as(&key).await?.ok_or_else(|| ApiError::Conflict(format!("verification session {interview_id} changed concurrently; retry")))?;
        if existing.registered {
            return Err(ApiError::Conflict(format!("verification session {interview_id} is already registered")));
        }
        let adopted = VerificationSession {
            registered: true,
            external_customer_id: body.external_customer_id.or(existing.external_customer_id),
            onboard_id: body.onboard_id,
            client_id: body.client_id,
            updated_at: time::now(),
            version: existing.version + 1,
            ..existing
        };
        self.put_session(account, &key, &adopted, Some(adopted.version - 1)).await.map_err(|err| session_error(err, &interview_id))?;
        Ok(adopted)
    }

    /// Writes a session: new (`previous_version` None) or replacing the version read, with the
    /// onboard or client it names checked in the same transaction.
    async fn put_session(&self, account: &Id, key: &keys::Key, session: &VerificationSession, previous_version: Option<u64>) -> Result<(), TxError> {
        let put = Write::put(Part::Session, key.clone(), keys::item(key, ItemType::VerificationSession, session)?);
        let put = match previous_version {
            None => put.only_if("attribute_not_exists(#pk)"),
            Some(version) => put.only_if("#version = :version").value(":version", keys::value(&version)?),
        };
        let mut writes = vec![put];
        if let Some(onboard) = &session.onboard_id {
            writes.push(crate::store::onboards::onboards::onboard_exists(account, onboard));
        }
        if let Some(client) = &session.client_id {
            writes.push(crate::store::client_onboarding::campaigns::client_exists(account, client));
        }
        self.db.transact(writes).await
    }

    pub async fn verification_session(&self, account: &Id, interview_id: &str) -> Result<VerificationSession, ApiError> {
        let interview_id = verification::interview_id("id", interview_id).map_err(domain::Refusal::as_malformed)?;
        self.db.get_as(&keys::verification_session(account, &interview_id)).await?.ok_or(ApiError::NotFound("verification session"))
    }
}

fn session_error(err: TxError, interview_id: &str) -> ApiError {
    match err {
        TxError::Condition(Part::Onboard) => ApiError::NotFound("onboard"),
        TxError::Condition(Part::Client) => ApiError::NotFound("client"),
        TxError::Condition(_) => ApiError::Conflict(format!("verification session {interview_id} changed concurrently; retry")),
        TxError::Busy => busy(),
        TxError::Other(e) => e,
    }
}
