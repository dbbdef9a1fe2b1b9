//! Provider webhooks: integrations, the one receiver, identity-verification sessions and
//! messaging channels.

pub use ::domain::provider_webhooks as domain;
#[cfg(feature = "outbound")]
pub mod partner_api;
