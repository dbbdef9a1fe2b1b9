//! Change-management emails (issue 29): when a connection is revoked, the partner's people; when
//! an invitation is accepted or declined, the inviter's. The one place that sends them: each
//! user of the account the change concerns who has not turned them off gets it. Sent after the
//! change committed, best-effort: a failure is logged, never undoes or fails the change (the
//! dashboard shows the same).

use crate::partners::domain::Connection;
use crate::partners::domain::email::{ChangeNotice, change_notice};
use crate::partners::domain::invitation::Invitation;
use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::id::Id;
use crate::platform::mail::Mailer;
use crate::store::Db;

/// What a function that changes relationships and tells the partner needs.
pub struct PartnerChanges {
    pub db: Db,
    pub mailer: Mailer,
}

impl FromEnv for PartnerChanges {
    fn from_env(env: &Env) -> Result<PartnerChanges, ConfigError> {
        Ok(PartnerChanges { db: Db::from_env(env)?, mailer: Mailer::from_env(env)? })
    }
}

impl PartnerChanges {
    pub fn notices(&self) -> Notices<'_> {
        Notices { db: &self.db, mailer: &self.mailer }
    }
}

/// The change notices of an account's relationships, sent with `mailer`.
pub struct Notices<'a> {
    pub db: &'a Db,
    pub mailer: &'a Mailer,
}

/// Where the dashboard's notice settings are, for the emails' opt-out line.
pub const SETTINGS_PATH: &str = "/dashboard#notifications";

/// Who answered an invitation, as its inviter knows them: the account, else the invited address.
fn invitee(invitation: &Invitation) -> String {
    invitation.invitee_account.as_ref().map(|a| a.name.clone()).or_else(|| invitation.invitee_email.clone()).unwrap_or_else(|| "Your partner".into())
}

impl Notices<'_> {
    /// `revoked` (the revoking side's copy) ended: its partner's people hear it.
    pub async fn connection_revoked(&self, revoked: &Connection, api_origin: &str) {
        let by = match self.db.accounts().account(&revoked.account_id).await {
            Ok(Some(account)) => account.name,
            _ => "Your partner".into(),
        };
        let at = revoked.revoked_at.as_deref().unwrap_or_default().to_string();
        self.send(&revoked.connected_account.id, &ChangeNotice::ConnectionRevoked { by, at }, api_origin).await;
    }

    /// `invitation` was answered (`accepted`: the connection it made): its inviter's people hear it.
    pub async fn invitation_answered(&self, invitation: &Invitation, accepted: Option<&Connection>, api_origin: &str) {
        let by = invitee(invitation);
        let notice = match accepted {
            Some(connection) => ChangeNotice::InvitationAccepted { by, connection: connection.id.to_string() },
            None => ChangeNotice::InvitationDeclined { by },
        };
        self.send(&invitation.inviter.id, &notice, api_origin).await;
    }

    /// Emails `account`'s users who want change notices; `api_origin`: the API's configured origin.
    pub async fn send(&self, account: &Id, notice: &ChangeNotice, api_origin: &str) {
        let users = match self.db.accounts().account_users(account).await {
            Ok(users) => users,
            Err(err) => return tracing::warn!(error = %err, %account, ?notice, "change notice not sent: its users could not be read"),
        };
        let to: Vec<String> = users.into_iter().filter(|u| u.change_emails).map(|u| u.email).collect();
        if to.is_empty() {
            return;
        }
        let email = change_notice(to, notice, &format!("{api_origin}/dashboard"), &format!("{api_origin}{SETTINGS_PATH}"));
        match self.mailer.send(&email).await {
            Ok(()) => tracing::info!(%account, recipients = email.to.len(), subject = %email.subject, "change notice sent"),
            Err(err) => tracing::warn!(error = %err, %account, "change notice not sent"),
        }
    }
}
