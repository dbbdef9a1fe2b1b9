//! Identity-verification sessions: registered by the account, advanced by Incode's webhooks.

use super::Db;
use super::tx::{TxError, Write};
use crate::domain::verification::{self, VerificationSession};
use crate::error::ApiError;
use crate::id::Id;
use crate::keys::{self, ItemType};
use crate::time;

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
}

impl Db {
    /// Registers an interview. One a webhook already reported (created unregistered) is adopted
    /// with its history; one registered before is a 409.
    pub async fn register_verification_session(&self, account: &Id, body: SessionBody) -> Result<VerificationSession, ApiError> {
        let interview_id = verification::interview_id("interview_id", &body.interview_id)?;
        if body.external_customer_id.as_ref().is_some_and(|e| e.is_empty() || e.len() > 256) {
            return Err(ApiError::validation("external_customer_id", "must be 1-256 characters"));
        }
        let key = keys::verification_session(account, &interview_id);
        let existing: Option<VerificationSession> = self.get_as(&key).await?;
        let session = match existing {
            Some(s) if s.registered => return Err(ApiError::Conflict(format!("verification session {interview_id} is already registered"))),
            Some(s) => VerificationSession {
                registered: true,
                external_customer_id: body.external_customer_id.or(s.external_customer_id),
                onboard_id: body.onboard_id.clone(),
                updated_at: time::now(),
                version: s.version + 1,
                ..s
            },
            None => VerificationSession::new(interview_id.clone(), body.external_customer_id, body.onboard_id.clone(), true, time::now()),
        };
        let put = Write::put("session", key.clone(), keys::item(&key, ItemType::VerificationSession, &session)?);
        let put = if session.version == 1 {
            put.only_if("attribute_not_exists(#pk)")
        } else {
            put.only_if("#version = :version").value(":version", keys::value(&(session.version - 1))?)
        };
        let mut writes = vec![put];
        if let Some(onboard) = &body.onboard_id {
            writes.push(Write::check("onboard", keys::onboard(account, onboard)).only_if("attribute_exists(#pk)"));
        }
        self.transact(writes).await.map_err(|err| match err {
            TxError::Condition("onboard") => ApiError::NotFound("onboard"),
            TxError::Condition(_) | TxError::Conflict => ApiError::Conflict(format!("verification session {interview_id} changed concurrently; retry")),
            TxError::Other(e) => e,
        })?;
        Ok(session)
    }

    pub async fn verification_session(&self, account: &Id, interview_id: &str) -> Result<VerificationSession, ApiError> {
        let interview_id = verification::interview_id("id", interview_id).map_err(ApiError::as_bad_request)?;
        self.get_as(&keys::verification_session(account, &interview_id)).await?.ok_or(ApiError::NotFound("verification session"))
    }
}
