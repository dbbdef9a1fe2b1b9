//! Provider webhooks: integrations, the one receiver, identity-verification sessions and
//! messaging channels.

/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::provider_webhooks`.
pub use ::domain::provider_webhooks as domain;
#[cfg(feature = "outbound")]
pub mod partner_api;
