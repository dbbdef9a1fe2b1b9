//! Shared code of the onboarding backend; the handlers in `functions/` are thin translations from
//! HTTP to calls into it. One folder per area of the product, each laid out the same way:
//! - `domain/`: its rules, pure (no AWS); they plan what a change writes;
//! - `store/`: its part of the table (the items it owns), committing those plans as conditional
//!   transactions;
//! - its service, what its functions are built with (`platform::config::FromEnv`).
//!
//! The areas: `partners` (invitations, connections, entities, audit), `onboards` (onboards, flows,
//! the buyer setup), `client_onboarding` (campaigns, clients, links, outbound webhooks) and
//! `provider_webhooks` (integrations, the receiver, verification sessions, channels) and `leads`
//! (submissions by connected sources, buyer-step deliveries, submission documents). Under them,
//! `platform`: the Lambda glue, HTTP, auth, rate limits, idempotency, configuration, the table
//! (`store`, whose `keys` is the one place key shapes are written) and the small
//! pieces (ids, time, errors, secrets). `stream` reads the table's stream for two areas at once.

pub mod client_onboarding;
pub mod leads;
pub mod onboards;
pub mod partners;
pub mod platform;
pub mod provider_webhooks;
pub mod store;

pub use platform::error::ApiError;
pub use platform::id::Id;
pub use store::Db;
