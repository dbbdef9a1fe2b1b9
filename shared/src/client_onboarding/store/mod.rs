//! The client onboarding area's items: campaigns, clients, webhook endpoints and deliveries.

pub mod campaigns;
pub mod webhook_endpoints;

/// The client onboarding area's part of the table: campaigns, clients, webhook endpoints and their deliveries.
#[derive(Clone, Copy, Debug)]
pub struct ClientOnboardingTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The client onboarding area's part of the table: campaigns, clients, webhook endpoints and their deliveries.
    pub fn client_onboarding(&self) -> ClientOnboardingTable<'_> {
        ClientOnboardingTable { db: self }
    }
}
