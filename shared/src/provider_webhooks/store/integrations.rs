//! Integrations: an account copy (no secrets) for the account's reads, and a lookup item in the
//! integration's own partition (with credentials) for the public receiver; both written and
//! deleted together.

use super::ProviderWebhooksTable;
use crate::store::lists::{Page, PageRequest};
use crate::store::tx::{Part, TxError, Write, busy};
use crate::provider_webhooks::domain::integration::{Integration, IntegrationBody, WebhookEvent};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::platform::time;

impl ProviderWebhooksTable<'_> {
    /// The new integration and its secret, to be shown once.
    pub async fn create_integration(&self, account: &Id, body: IntegrationBody) -> Result<(Integration, String), ApiError> {
        let (integration, secret) = body.into_integration(Id::generate(), account.clone(), time::now())?;
        let lookup = keys::integration_lookup(&integration.id);
        let copy = keys::integration(account, &integration.id);
        let public = Integration { credentials: None, ..integration.clone() };
        self.db.transact(vec![
            Write::put(Part::Integration, lookup.clone(), keys::item(&lookup, ItemType::Integration, &integration)?).only_if("attribute_not_exists(#pk)"),
            Write::put(Part::Integration, copy.clone(), keys::item(&copy, ItemType::Integration, &public)?).only_if("attribute_not_exists(#pk)"),
        ])
        .await
        .map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict("integration could not be created; retry".into()),
        })?;
        Ok((integration, secret))
    }

    /// The caller's integration (without credentials); another account's is not found.
    pub async fn integration(&self, account: &Id, id: &Id) -> Result<Integration, ApiError> {
        self.db.get_as(&keys::integration(account, id)).await?.ok_or(ApiError::NotFound("integration"))
    }

    /// The integration with its credentials, by id alone: for the public endpoints.
    pub async fn integration_for_delivery(&self, id: &Id) -> Result<Integration, ApiError> {
        self.db.get_as(&keys::integration_lookup(id)).await?.ok_or(ApiError::NotFound("integration"))
    }

    pub async fn integrations(&self, account: &Id, page: &PageRequest) -> Result<Page<Integration>, ApiError> {
        self.db.list(account, prefix::INTEGRATION, page, None).await
    }

    /// Deliveries to a deleted integration are 404 from then on; its events expire by TTL.
    pub async fn delete_integration(&self, account: &Id, id: &Id) -> Result<(), ApiError> {
        self.db.transact(vec![
            Write::delete(Part::Integration, keys::integration(account, id)).only_if("attribute_exists(#pk)"),
            Write::delete(Part::IntegrationLookup, keys::integration_lookup(id)),
        ])
        .await
        .map_err(|err| match err {
            TxError::Condition(_) => ApiError::NotFound("integration"),
            TxError::Busy => busy(),
            TxError::Other(e) => e,
        })
    }

    /// Newest first. Checks the integration is the caller's first (another's is a 404).
    pub async fn integration_events(&self, account: &Id, id: &Id, page: &PageRequest) -> Result<Page<WebhookEvent>, ApiError> {
        self.integration(account, id).await?;
        self.db.list_in(keys::integration_partition(id), prefix::WEBHOOK_EVENT, page, None).await
    }
}
