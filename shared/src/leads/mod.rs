//! Leads: connected sources submit them to a partner's flow (with their own API key), the flow
//! accepts or rejects them, and its buyer steps deliver them to the buyers' flows, durably
//! (table stream → lead-delivery queue → `lead-deliver`), each step once.

/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::leads`.
pub use ::domain::leads as domain;
#[cfg(feature = "mail")]
pub mod docs_mail;
pub mod service;
