//! Every Lambda function's handler, by area of the product. A handler translates HTTP (or a queue
//! or stream batch) into one call on `shared` and back; each binary in `src/bin/` serves one.

pub mod account;
pub mod client_onboarding;
pub mod docs;
pub mod leads;
pub mod onboards;
pub mod pages;
pub mod partners;
pub mod people;
pub mod provider_webhooks;
pub mod registry;
pub mod routes;
pub mod stream;
