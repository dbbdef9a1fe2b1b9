//! Emailing a connected source the flows it may send leads to, each with its submission
//! documents: when the connection is accepted, and again when the seller asks (seed 002:
//! "re-send submission documentation if necessary").

use std::time::Duration;

use serde::Serialize;

use crate::leads::service::Leads;
use crate::partners::domain::{Connection, ConnectionStatus, Relationship, email};
use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::mail::Mailer;

/// One email per connection per minute at most: a double click, or a loop in a client, does
/// not fill the partner's inbox.
pub const RESEND_AFTER: Duration = Duration::from_secs(60);

pub struct SubmissionDocsMail {
    pub leads: Leads,
    pub mailer: Mailer,
}

impl FromEnv for SubmissionDocsMail {
    fn from_env(env: &Env) -> Result<SubmissionDocsMail, ConfigError> {
        Ok(SubmissionDocsMail { leads: Leads::from_env(env)?, mailer: Mailer::from_env(env)? })
    }
}

/// What an email carried, and to how many of the source's users.
#[derive(Debug, Serialize)]
pub struct DocsSent {
    pub flows: usize,
    pub recipients: usize,
}

impl SubmissionDocsMail {
    /// `seller` emails the partner on its connection `connection` (a partner that sends it
    /// leads) the flows it may send to.
    pub async fn resend(&self, seller: &Id, connection: &Id, api_origin: &str) -> Result<DocsSent, ApiError> {
        let partners = self.leads.db.partners();
        let connection = partners.connection(seller, connection).await?.ok_or(ApiError::NotFound("connection"))?;
        let partner = &connection.connected_account;
        if connection.status != ConnectionStatus::Active {
            return Err(ApiError::Conflict(format!("the connection with {} is revoked: there is nothing to send", partner.name)));
        }
        if connection.relationship_type == Relationship::Buyer {
            return Err(ApiError::Conflict(format!("{} receives leads from you and sends none: it has no submission documents", partner.name)));
        }
        if !partners.may_send_submission_docs(&connection.id, RESEND_AFTER).await? {
            let window = RESEND_AFTER.as_secs();
            return Err(ApiError::TooManyRequests { limit: 1, window, retry_after: window });
        }
        let source_copy = partners.connection(&partner.id, &connection.id).await?.ok_or(ApiError::NotFound("connection"))?;
        self.send_to_source(source_copy, api_origin).await
    }

    /// After an invitation is accepted (`accepted`: the accepting side's copy): a partner invited
    /// as a source (to send leads to the inviter) is emailed the flows it may send to. A failure
    /// is logged, not returned: the connection stands, its dashboard lists the same flows, and
    /// the seller can send them again.
    pub async fn after_acceptance(&self, accepted: &Connection, api_origin: &str) {
        // `relationship_type` is the inviter's role seen from the accepting side.
        if accepted.relationship_type == Relationship::Seller {
            return;
        }
        // The accepting side's copy is the source's: nothing to read again.
        if let Err(err) = self.send_to_source(accepted.clone(), api_origin).await {
            tracing::warn!(error = %err, connection = %accepted.id, "submission documents not emailed");
        }
    }

    /// Emails the owner of `source_copy` (the source's copy of the connection) its flows.
    async fn send_to_source(&self, source_copy: Connection, api_origin: &str) -> Result<DocsSent, ApiError> {
        let source = source_copy.account_id.clone();
        let listing = self.leads.flows_on(source_copy, api_origin).await?;
        let recipients = self.leads.db.accounts().account_user_emails(&source).await?;
        let flows: Vec<(String, String)> = listing.flows.iter().map(|f| (f.flow.name.clone(), f.docs_url.clone())).collect();
        let sent = DocsSent { flows: flows.len(), recipients: recipients.len() };
        if !recipients.is_empty() {
            self.mailer.send(&email::submission_docs(recipients, &listing.partner.name, &flows, &format!("{api_origin}/dashboard"))).await?;
        }
        Ok(sent)
    }
}
