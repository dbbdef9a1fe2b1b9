//! 360dialog's Partner API, for the one call this backend makes: generating a channel's API key
//! once the channel is `running` (seed 004, step 5). The base URL is configurable so that tests
//! and staging point it elsewhere.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::provider_webhooks::domain::channel::{Channel, ChannelStatus};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::outbound::HttpClient;
use crate::store::Db;

pub const DEFAULT_BASE_URL: &str = "https://hub.360dialog.io/api/v2";
const PARTNER_API: &str = "360dialog's Partner API";
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the partner API returns for a new key (fields we do not know are dropped).
#[derive(Debug, Serialize, Deserialize)]
pub struct ChannelApiKey {
    pub api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

/// The clients the `channels-api-key` function builds at cold start.
#[derive(Debug)]
pub struct PartnerApi {
    pub db: Db,
    pub http: HttpClient,
    pub base_url: String,
}

/// `DIALOG360_PARTNER_API_URL`, or 360dialog's production API.
impl FromEnv for PartnerApi {
    fn from_env(env: &Env) -> Result<PartnerApi, ConfigError> {
        Ok(PartnerApi::new(Db::from_env(env)?, env.optional("DIALOG360_PARTNER_API_URL")))
    }
}

impl PartnerApi {
    /// `DIALOG360_PARTNER_API_URL`, or 360dialog's production API.
    pub fn new(db: Db, base_url: Option<String>) -> PartnerApi {
        let base_url = base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string()).trim_end_matches('/').to_string();
        PartnerApi { db, http: HttpClient::new(TIMEOUT), base_url }
    }

    /// Generates an API key for the caller's channel: 409 unless it is `running` and its
    /// integration has partner credentials; 502 when the partner API fails. The key is returned,
    /// never stored.
    pub async fn create_channel_api_key(&self, account: &Id, channel_id: &str) -> Result<(Channel, ChannelApiKey), ApiError> {
        let channel = self.db.provider_webhooks().channel(account, channel_id).await?;
        if channel.status != ChannelStatus::Running {
            return Err(ApiError::Conflict(format!(
                "channel {} is {}; an API key can be generated only once it is running",
                channel.id, channel.status.as_str()
            )));
        }
        let integration = self
            .db
            .provider_webhooks().integration_for_delivery(&channel.integration_id)
            .await
            .map_err(|_| ApiError::Conflict(format!("the integration of channel {} was deleted", channel.id)))?;
        let credentials = integration.credentials.as_ref().and_then(|c| c.partner_api_key.as_deref());
        let (Some(partner_id), Some(partner_key)) = (integration.partner_id.as_deref(), credentials) else {
            return Err(ApiError::Conflict(format!("integration {} has no partner_id and partner_api_key", integration.id)));
        };
        let url = format!("{}/partners/{partner_id}/channels/{}/api_keys", self.base_url, channel.id);
        let headers = [("content-type", "application/json"), ("accept", "application/json"), ("x-api-key", partner_key)];
        let response = self.http.send("POST", &url, &headers, b"{}".to_vec()).await.map_err(|e| {
            tracing::error!(error = %e, "360dialog partner API unreachable");
            ApiError::BadGateway { upstream: PARTNER_API, cause: format!("unreachable: {e}") }
        })?;
        if !(200..300).contains(&response.status) {
            tracing::error!(status = response.status, "360dialog partner API refused the API key");
            return Err(ApiError::BadGateway { upstream: PARTNER_API, cause: format!("answered {}", response.status) });
        }
        let key: ChannelApiKey = serde_json::from_slice(&response.body)
            .map_err(|e| ApiError::BadGateway { upstream: PARTNER_API, cause: format!("answered with an unexpected body: {e}") })?;
        self.db.provider_webhooks().mark_api_key_created(account, &channel.id).await?;
        Ok((channel, key))
    }
}
