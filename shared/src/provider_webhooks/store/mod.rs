//! The provider webhooks area's items: integrations, received events, verification sessions,
//! channels.

pub mod channels;
pub mod integrations;
pub mod receiver;
pub mod verification;

crate::platform::store::table_part! {
    /// The provider webhooks area's part of the table: integrations and their events, verification sessions, channels.
    ProviderWebhooksTable, provider_webhooks
}
