//! Provider webhooks: integrations, the one receiver, identity-verification sessions and
//! messaging channels.

pub mod domain;
#[cfg(feature = "outbound")]
pub mod partner_api;
