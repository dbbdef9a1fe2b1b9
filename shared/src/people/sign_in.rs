//! Asking for a sign-in link: the same answer for every address, the link emailed only to a
//! user's own inbox (`docs/security.md`, `POST /sign-in`).

use crate::people::domain::{no_account_email, sign_in_email};
use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::error::ApiError;
use crate::platform::mail::Mailer;
use crate::store::Db;

/// What `POST /sign-in` needs: the table and SES.
pub struct SignIn {
    pub db: Db,
    pub mailer: Mailer,
}

impl FromEnv for SignIn {
    fn from_env(env: &Env) -> Result<SignIn, ConfigError> {
        Ok(SignIn { db: Db::from_env(env)?, mailer: Mailer::from_env(env)? })
    }
}

impl SignIn {
    /// Emails `address` a link to sign in (a user's), or word that no account uses it; nothing
    /// if it was emailed in the last minute. The caller learns none of this. `api_origin` is
    /// where the link's page is.
    pub async fn request_link(&self, address: &str, api_origin: &str) -> Result<(), ApiError> {
        if !self.db.people().may_email(address).await? {
            tracing::info!("sign-in email withheld: one was sent to this address in the last minute");
            return Ok(());
        }
        let accounts = self.db.accounts();
        let email = match accounts.user(address).await? {
            Some(user) => {
                let account = accounts.account(&user.account_id).await?.ok_or(ApiError::Internal("a user's account is missing".into()))?;
                let token = self.db.people().issue_link(&user.email, &account.id).await?;
                sign_in_email(&user.email, &account.name, &format!("{api_origin}/sign-in/link?token={token}"))
            }
            None => no_account_email(address),
        };
        self.mailer.send(&email).await
    }
}
