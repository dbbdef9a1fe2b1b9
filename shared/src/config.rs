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

/// The SDK configuration a Lambda function builds its clients from: region, credentials and
/// `AWS_ENDPOINT_URL` (moto, LocalStack) from the environment, which is all Lambda provides.
///
/// Deliberately not `aws_config::load_defaults`: its provider chains (profiles, SSO, STS web
/// identity, IMDS) are never used in Lambda but add about a megabyte to every binary and work to
/// every cold start. TLS is rustls with ring rather than the larger aws-lc (docs/performance.md).
/// Operator tools on a workstation use `infra`'s full loader instead.
pub fn aws() -> Result<aws_config::SdkConfig, ConfigError> {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_credential_types::provider::SharedCredentialsProvider;
    let region = optional("AWS_REGION").or_else(|| optional("AWS_DEFAULT_REGION")).ok_or(ConfigError("AWS_REGION"))?;
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(https_client())
        .retry_config(aws_config::retry::RetryConfig::standard())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        config = config.sleep_impl(sleep);
    }
    if let Some(endpoint) = optional("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

/// The SDK's hyper/rustls client, with ring as the crypto provider.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
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
