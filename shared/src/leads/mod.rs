//! Leads: connected sources submit them to a partner's flow (with their own API key), the flow
//! accepts or rejects them, and its buyer steps deliver them to the buyers' flows, durably
//! (table stream → lead-delivery queue → `lead-deliver`), each step once.

pub use ::domain::leads as domain;
pub mod service;
