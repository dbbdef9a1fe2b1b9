//! Channels: claims from the public redirect, statuses from the partner hub's events.

use super::ProviderWebhooksTable;
use crate::store::lists::{Page, PageRequest};
use crate::store::tx::{Part, TxError, Write};
use crate::provider_webhooks::domain::channel::{Channel, Permission, Redirect};
use crate::platform::validate::external_id;
use crate::provider_webhooks::domain::integration::{Integration, Outcome, Provider, WebhookEvent};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::platform::time;

/// A channel known only from a redirect's claim is removed after this unless a hub event
/// confirms it: anyone can call the redirect, so what it creates must not accumulate.
pub const UNCONFIRMED_CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl ProviderWebhooksTable<'_> {
    pub async fn channel(&self, account: &Id, channel_id: &str) -> Result<Channel, ApiError> {
        let id = external_id(channel_id).ok_or_else(|| ApiError::BadRequest(format!("'{channel_id}' is not a valid channel id")))?;
        self.db.get_as(&keys::channel(account, id)).await?.ok_or(ApiError::NotFound("channel"))
    }

    pub async fn channels(&self, account: &Id, page: &PageRequest) -> Result<Page<Channel>, ApiError> {
        self.db.list(account, prefix::CHANNEL, page, None).await
    }

    /// The 360dialog integration `id` (any other is not found), for its public redirect.
    pub async fn dialog_integration(&self, id: &Id) -> Result<Integration, ApiError> {
        Some(self.integration_for_delivery(id).await?).filter(|i| i.provider == Provider::Dialog360).ok_or(ApiError::NotFound("integration"))
    }

    /// Records a redirect: the event, and a pending channel for each claimed channel not known
    /// yet. The redirect is the client's unauthenticated browser, so it never changes a channel
    /// that exists (its status, permission or client come from the hub's authenticated events
    /// and the Partner API), and the channels it creates expire unless the hub confirms them.
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
        event_item.insert(keys::TTL.into(), keys::expires_after(crate::store::provider_webhooks::receiver::EVENT_TTL));
        let claims: Vec<(&String, Permission)> =
            redirect.granted.iter().map(|c| (c, Permission::Granted)).chain(redirect.revoked.iter().map(|c| (c, Permission::Revoked))).collect();
        // Twice: a hub event creating one of the channels meanwhile fails the first attempt.
        for _ in 0..2 {
            let claim_keys: Vec<_> = claims.iter().map(|(id, _)| keys::channel(&integration.account_id, id)).collect();
            let known: Vec<Channel> = self.db.get_many(&claim_keys).await?.into_iter().map(keys::parse).collect::<Result<_, _>>()?;
            let mut writes = vec![Write::put(Part::Event, event_key.clone(), event_item.clone())];
            for ((channel_id, permission), key) in claims.iter().zip(claim_keys) {
                if known.iter().any(|c| &c.id == *channel_id) {
                    continue;
                }
                let channel = Channel::claimed(channel_id, &integration.id, *permission, &redirect.client, &now);
                let mut item = keys::item(&key, ItemType::Channel, &channel)?;
                item.insert(keys::TTL.into(), keys::expires_after(UNCONFIRMED_CLAIM_TTL));
                writes.push(Write::put(Part::Channel, key, item).only_if("attribute_not_exists(#pk)"));
            }
            match self.db.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(TxError::Other(e)) => return Err(e),
                Err(_) => continue,
            }
        }
        Err(ApiError::Conflict("the channels are being updated; reload the page".into()))
    }

    pub async fn mark_api_key_created(&self, account: &Id, channel_id: &str) -> Result<(), ApiError> {
        let write = Write::update(Part::Channel, keys::channel(account, channel_id)).set("api_key_created_at", keys::string(time::now()));
        match self.db.update_returning(write).await {
            Ok(_) => Ok(()),
            Err(crate::store::tx::UpdateError::Other(e)) => Err(e),
            Err(crate::store::tx::UpdateError::Condition(_)) => Err(ApiError::Internal("unconditional update refused".into())),
        }
    }
}
