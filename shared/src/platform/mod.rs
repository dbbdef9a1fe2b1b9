//! What every area stands on: the Lambda glue, HTTP, authentication, rate limits, idempotency,
//! configuration and errors; the pure pieces (ids, time, input rules, secrets, signatures, email
//! content, accounts) are the domain crate's, re-exported here under the same names.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod lambda;
pub mod metrics;
#[cfg(feature = "mail")]
pub mod mail;
#[cfg(feature = "outbound")]
pub mod outbound;
pub mod ratelimit;
pub mod seal;

pub use domain::platform::{accounts, email, id, public_url, secret, signature, time, validate};
