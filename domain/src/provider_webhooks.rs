//! The provider webhooks area's rules, pure (no AWS).

pub mod channel;
pub mod delivery;
pub mod integration;
pub mod verification;
