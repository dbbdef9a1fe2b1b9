//! Sending invitations (create and resend share it): the store call, the email, the response.

use lambda_http::http::StatusCode;
use serde::Deserialize;

use crate::platform::accounts::Caller;
use crate::partners::settings::InvitationSettings;
use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::partners::domain::Relationship;
use crate::partners::domain::email;
use crate::platform::validate;
use crate::platform::error::ApiError;
use crate::platform::http::{HandlerResult, json};
use crate::platform::id::Id;
use crate::platform::mail::Mailer;
use crate::store::Db;
use crate::store::partners::invitations::{InviteeRequest, Sent};
use crate::platform::time;

/// What the invitation endpoints need: the table, SES, and the invitation settings.
pub struct Inviter {
    pub db: Db,
    pub mailer: Mailer,
    pub settings: InvitationSettings,
}

impl FromEnv for Inviter {
    fn from_env(env: &Env) -> Result<Inviter, ConfigError> {
        Ok(Inviter { db: Db::from_env(env)?, mailer: Mailer::from_env(env)?, settings: InvitationSettings::from_env(env)? })
    }
}

impl Inviter {
    /// Invites the partner the body names. `relationship` is fixed by the endpoint
    /// (`/invitations/recipient` → buyer, `/invitations/source` → seller) or, for
    /// `POST /invitations`, taken from the body.
    /// `api_origin` is where the API's own invitation page is (the link's default).
    pub async fn send(&self, caller: &Caller, body: InviteBody, relationship: Option<Relationship>, api_origin: &str) -> HandlerResult {
        let relationship = match (relationship, body.relationship_type) {
            (Some(fixed), Some(asked)) if fixed != asked => {
                return Err(ApiError::validation("relationship_type", format!("this endpoint invites a {fixed:?} partner").to_lowercase()));
            }
            (Some(fixed), _) => fixed,
            (None, Some(asked)) => asked,
            (None, None) => return Err(ApiError::validation("relationship_type", "missing field `relationship_type`")),
        };
        let invitee = match (body.email, body.account_id) {
            (Some(email), None) => InviteeRequest::Email(validate::email("email", &email)?),
            (None, Some(account)) => InviteeRequest::Account(account),
            (None, None) => return Err(ApiError::validation("email", "missing field `email` (or give `account_id`)")),
            (Some(_), Some(_)) => return Err(ApiError::validation("account_id", "give either `email` or `account_id`, not both")),
        };
        let name = body.name.map(|n| validate::name("name", &n)).transpose()?;
        let sent = self.db.partners().send_invitation(caller, invitee, relationship, name, &self.settings).await?;
        self.respond(sent, "Invitation was sent successfully", api_origin).await
    }

    pub async fn resend(&self, caller: &Caller, id: &Id, api_origin: &str) -> HandlerResult {
        let sent = self.db.partners().resend_invitation(caller, id, &self.settings).await?;
        self.respond(sent, "Invitation was resent successfully", api_origin).await
    }

    /// Emails the link and answers 201 for a new invitation, 200 otherwise. The invitation is
    /// already saved, so a failed email does not fail the request: `email_sent: false` says to
    /// resend.
    async fn respond(&self, sent: Sent, message: &str, api_origin: &str) -> HandlerResult {
        let email_sent = match &sent.link {
            Some(delivery) if !delivery.recipients.is_empty() => {
                let link = self.settings.link(&delivery.token, api_origin);
                let mail = email::invitation(delivery.recipients.clone(), &sent.invitation, &link);
                match self.mailer.send(&mail).await {
                    Ok(()) => Some(true),
                    Err(err) => {
                        tracing::error!(invitation = %sent.invitation.id, error = %err, "invitation email failed");
                        Some(false)
                    }
                }
            }
            Some(_) => Some(false),
            None => None,
        };
        let now = time::now();
        let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
        json(
            status,
            &serde_json::json!({
                "message": message,
                "entity": sent.entity.view(&now),
                "invitation": sent.invitation.as_seen_at(&now),
                "email_sent": email_sent,
            }),
        )
    }
}

/// The body of `POST /invitations`, `/invitations/recipient` and `/invitations/source`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The partner's email (LeadConduit's field).
    pub email: Option<String>,
    /// Or an existing account, by id.
    pub account_id: Option<Id>,
    /// How this account will name the partner; defaults to the partner account's name or email.
    pub name: Option<String>,
    pub relationship_type: Option<Relationship>,
}
