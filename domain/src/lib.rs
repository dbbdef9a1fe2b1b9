//! The product's rules, pure: no AWS, no Lambda, no HTTP, no runtime (this crate depends on none,
//! so the compiler keeps it that way). One module per area of the product: what it allows, and
//! what a change writes, planned as plain data that the area's store in `shared` commits.
//! `platform` holds the pure pieces every area uses: ids, time, input rules, secrets and
//! signatures, email content, accounts. A rule that refuses says why with a [`Refusal`], which
//! `shared::ApiError` maps to a status, once.

pub mod client_onboarding;
pub mod leads;
pub mod onboards;
pub mod partners;
pub mod people;
pub mod platform;
pub mod provider_webhooks;
pub mod refusal;

pub use refusal::Refusal;
