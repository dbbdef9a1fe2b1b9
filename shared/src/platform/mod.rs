//! What every area stands on: the Lambda glue, HTTP, authentication, rate limits, idempotency,
//! configuration, the table, and the small pieces (ids, time, errors, secrets, signatures).

pub mod accounts;
pub mod auth;
pub mod config;
pub mod email;
pub mod error;
pub mod http;
pub mod id;
pub mod idempotency;
pub mod lambda;
#[cfg(feature = "mail")]
pub mod mail;
#[cfg(feature = "outbound")]
pub mod outbound;
pub mod public_url;
pub mod ratelimit;
pub mod seal;
pub mod secret;
pub mod signature;
pub mod time;
pub mod validate;
