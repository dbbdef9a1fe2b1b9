//! Sending email through SES (only linked into functions that send mail).

use aws_sdk_ses::types::{Body, Content, Destination, Message};

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::email::Email;
use crate::platform::error::ApiError;

#[derive(Clone, Debug)]
pub struct Mailer {
    /// Built at the first email, not at cold start.
    client: crate::platform::config::LazyClient<aws_sdk_ses::Client>,
    sender: String,
}

/// From `SENDER_EMAIL`, a verified SES identity.
impl FromEnv for Mailer {
    fn from_env(env: &Env) -> Result<Mailer, ConfigError> {
        Ok(Mailer { client: env.client(aws_sdk_ses::Client::new)?, sender: env.required("SENDER_EMAIL")? })
    }
}

impl Mailer {
    pub fn new(client: aws_sdk_ses::Client, sender: impl Into<String>) -> Mailer {
        Mailer { client: crate::platform::config::LazyClient::ready(client), sender: sender.into() }
    }


    pub async fn send(&self, email: &Email) -> Result<(), ApiError> {
        let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
        let fail = |e: &dyn std::fmt::Display| ApiError::Internal(format!("SES: {e}"));
        let message = Message::builder()
            .subject(content(&email.subject).map_err(|e| fail(&e))?)
            .body(Body::builder().text(content(&email.text).map_err(|e| fail(&e))?).html(content(&email.html).map_err(|e| fail(&e))?).build())
            .build();
        self.client
            .get()
            .send_email()
            .source(&self.sender)
            .destination(Destination::builder().set_to_addresses(Some(email.to.clone())).build())
            .message(message)
            .send()
            .await
            .map_err(|e| fail(&aws_sdk_ses::error::DisplayErrorContext(&e)))?;
        Ok(())
    }
}
