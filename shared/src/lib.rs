//! Shared code of the onboarding backend: domain rules (pure), the DynamoDB store, HTTP
//! helpers, authentication and the Lambda entry point. Functions under `functions/` are thin
//! translations from HTTP to calls into this crate.

pub mod auth;
#[cfg(feature = "mail")]
pub mod buyer_setup;
pub mod config;
#[cfg(feature = "outbound")]
pub mod deliver;
pub mod domain;
pub mod error;
pub mod http;
pub mod id;
pub mod idempotency;
#[cfg(feature = "mail")]
pub mod invite;
pub mod keys;
#[cfg(feature = "events")]
pub mod pipeline;
pub mod lambda;
#[cfg(feature = "mail")]
pub mod mail;
#[cfg(feature = "outbound")]
pub mod outbound;
#[cfg(feature = "outbound")]
pub mod partner;
pub mod ratelimit;
pub mod seal;
pub mod secret;
pub mod signature;
pub mod store;
pub mod time;

pub use error::ApiError;
pub use id::Id;
pub use store::Db;
