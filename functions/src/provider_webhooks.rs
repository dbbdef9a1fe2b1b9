//! Provider webhooks: integrations with identity-verification and channel providers, the one
//! receiver of their webhooks, verification sessions and WhatsApp channels.

pub mod channels;
pub mod integrations;
pub mod receiver;
pub mod verification_sessions;
