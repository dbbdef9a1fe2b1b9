//! The client onboarding area's items: campaigns, clients, webhook endpoints and deliveries.

pub mod campaigns;
pub mod webhook_endpoints;

crate::platform::store::table_part! {
    /// The client onboarding area's part of the table: campaigns, clients, webhook endpoints and their deliveries.
    ClientOnboardingTable, client_onboarding
}
