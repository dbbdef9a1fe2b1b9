//! Channels: claims from the public redirect, statuses from the partner hub's events.

use super::Db;
use super::lists::{Page, PageRequest};
use super::tx::{TxError, Write};
use crate::domain::channel::{Channel, Permission, Redirect};
use crate::domain::validate::external_id;
use crate::domain::integration::{Integration, Outcome, Provider, WebhookEvent};
use crate::error::ApiError;
use crate::id::Id;
use crate::keys::{self, ItemType, prefix};
use crate::time;

impl Db {
    pub async fn channel(&self, account: &Id, channel_id: &str) -> Result<Channel, ApiError> {
        let id = external_id(channel_id).ok_or_else(|| ApiError::BadRequest(format!("'{channel_id}' is not a valid channel id")))?;
        self.get_as(&keys::channel(account, id)).await?.ok_or(ApiError::NotFound("channel"))
    }

    pub async fn channels(&self, account: &Id, page: &PageRequest) -> Result<Page<Channel>, ApiError> {
        self.list(account, prefix::CHANNEL, page, None).await
    }

    /// The 360dialog integration `id` (any other is not found), for its public redirect.
    pub async fn dialog_integration(&self, id: &Id) -> Result<Integration, ApiError> {
        Some(self.integration_for_delivery(id).await?).filter(|i| i.provider == Provider::Dialog360).ok_or(ApiError::NotFound("integration"))
    }

    /// Records a redirect's claims (never a status) and the redirect itself as an event, in one
    /// transaction.
    pub async fn record_redirect(&self, integration: &Integration, redirect: &Redirect) -> Result<(), ApiError> {
        let now = time::now();
        let event = WebhookEvent {
            id: Id::generate(),
            integration_id: integration.id.clone(),
            provider: integration.provider,
            event_type: "redirect".into(),
            subject: Some(redirect.client.clone()),
            outcome: Outcome::Claimed,
            received_at: now.clone(),
            payload: serde_json::json!({ "client": redirect.client, "channels": redirect.granted, "revoked": redirect.revoked }).to_string(),
        };
        let event_key = keys::webhook_event(&integration.id, &event.id);
        let mut event_item = keys::item(&event_key, ItemType::WebhookEvent, &event)?;
        event_item.insert(keys::TTL.into(), keys::expires_after(super::webhooks::EVENT_TTL));
        let mut writes = vec![Write::put("event", event_key, event_item)];
        let claims = redirect.granted.iter().map(|c| (c, Permission::Granted)).chain(redirect.revoked.iter().map(|c| (c, Permission::Revoked)));
        for (channel_id, permission) in claims {
            writes.push(
                Write::update("channel", keys::channel(&integration.account_id, channel_id))
                    .set("id", keys::string(channel_id))
                    .set("integration_id", keys::value(&integration.id)?)
                    .set("permission", keys::value(&permission)?)
                    .set("claimed_by_client", keys::string(&redirect.client))
                    .set("claimed_at", keys::string(&now))
                    .set(keys::TYPE, keys::string(ItemType::Channel.as_str())),
            );
        }
        self.transact(writes).await.map_err(|err| match err {
            TxError::Other(e) => e,
            _ => ApiError::Conflict("the channels are being updated; reload the page".into()),
        })
    }

    pub async fn mark_api_key_created(&self, account: &Id, channel_id: &str) -> Result<(), ApiError> {
        let write = Write::update("channel", keys::channel(account, channel_id)).set("api_key_created_at", keys::string(time::now()));
        match self.update_returning(write).await {
            Ok(_) => Ok(()),
            Err(super::tx::UpdateError::Other(e)) => Err(e),
            Err(super::tx::UpdateError::Condition(_)) => Err(ApiError::Internal("unconditional update refused".into())),
        }
    }
}
