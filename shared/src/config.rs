//! Configuration from the environment, read once per cold start.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must be set")]
pub struct ConfigError(pub &'static str);

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(ConfigError(name))
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The SDK configuration every client is built from. `AWS_ENDPOINT_URL` (moto, LocalStack) and
/// the usual credential and region variables are honoured by the SDK itself.
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// How invitations are issued.
#[derive(Clone, Debug)]
pub struct InvitationSettings {
    /// How long an invitation stays acceptable (`INVITATION_TTL_DAYS`, default 14).
    pub ttl: Duration,
    /// Where the emailed link points; the token is appended as `?token=` (`INVITATION_LINK_BASE`).
    pub link_base: String,
}

impl InvitationSettings {
    pub const DEFAULT_TTL_DAYS: u64 = 14;

    pub fn from_env() -> Result<InvitationSettings, ConfigError> {
        let days = match optional("INVITATION_TTL_DAYS") {
            None => Self::DEFAULT_TTL_DAYS,
            Some(raw) => raw.parse().map_err(|_| ConfigError("INVITATION_TTL_DAYS (a whole number of days)"))?,
        };
        let link_base = optional("INVITATION_LINK_BASE").unwrap_or_else(|| "http://127.0.0.1:3000/invitations/claim".into());
        Ok(InvitationSettings { ttl: Duration::from_secs(days * 86_400), link_base })
    }

    pub fn link(&self, token: &str) -> String {
        format!("{}?token={token}", self.link_base)
    }
}
