//! Shared code of the onboarding backend; the handlers in `functions/` are thin translations from
//! HTTP to calls into it.
//! - `domain`: the rules, pure (no AWS), one module per concept; they plan what a change writes.
//! - `store`: the DynamoDB table (`Db`), one module per concept, committing those plans as
//!   conditional transactions; key shapes come from `keys` only.
//! - Services, what a function is built with (`config::FromEnv`): `invite` (partners),
//!   `buyer_setup` (onboards), `client_onboarding` and `deliver` (client onboarding), `partner`
//!   (provider webhooks).
//! - The platform: `lambda`, `http`, `auth`, `ratelimit`, `idempotency`, `config`, `error`, `id`,
//!   `time`, `keys`, `seal`, `secret`, `signature`, `mail`, `outbound`.

pub mod auth;
#[cfg(feature = "mail")]
pub mod buyer_setup;
pub mod client_onboarding;
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
