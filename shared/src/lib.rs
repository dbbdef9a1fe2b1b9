//! Shared code of the onboarding backend; the handlers in `functions/` are thin translations from
//! HTTP to calls into it. One folder per area of the product, each laid out the same way:
//! - its rules: `<area>::domain`, the `domain` crate's module of that area (pure: that crate
//!   depends on no AWS, Lambda or HTTP crate); they plan what a change writes;
//! - `<area>/store/`: its part of the table, `crate::store::<area>` (the items it owns, committing
//!   those plans as conditional transactions). Only `crate::store` sees the table's primitives
//!   and key shapes;
//! - its services, what its functions are built with (`platform::config::FromEnv`).
//!
//! The areas: `partners` (invitations, connections, entities, audit), `onboards` (onboards, flows,
//! the buyer setup), `client_onboarding` (campaigns, clients, links, outbound webhooks),
//! `provider_webhooks` (integrations, the receiver, verification sessions, channels) and `leads`
//! (submissions by connected sources, buyer-step deliveries, submission documents). Under them,
//! `store` (the table: keys, transactions, lists, the stream's records, accounts, idempotency
//! keys, request counts) and `platform`: the Lambda glue, HTTP, auth, rate limits, idempotency,
//! configuration, errors and the domain's pure pieces (ids, time, secrets…).

pub mod client_onboarding;
pub mod leads;
pub mod onboards;
pub mod partners;
pub mod people;
pub mod platform;
pub mod provider_webhooks;
pub mod store;

pub use platform::error::ApiError;
pub use platform::id::Id;
pub use store::Db;
