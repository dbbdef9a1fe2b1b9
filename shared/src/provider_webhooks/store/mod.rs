//! The provider webhooks area's items: integrations, received events, verification sessions,
//! channels.

pub mod channels;
pub mod integrations;
pub mod receiver;
pub mod verification;

/// The provider webhooks area's part of the table: integrations and their events, verification sessions, channels.
#[derive(Clone, Copy, Debug)]
pub struct ProviderWebhooksTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The provider webhooks area's part of the table: integrations and their events, verification sessions, channels.
    pub fn provider_webhooks(&self) -> ProviderWebhooksTable<'_> {
        ProviderWebhooksTable { db: self }
    }
}
