//! The integration tests, one binary (one link of the whole workspace instead of one per file):
//! a module per area of the product, each driving the API in-process through the local API
//! Gateway against the local AWS stack, plus the contract, security and end-to-end suites.
//! `infra/test` runs them; `infra/test -p api-tests --test api onboards::` runs one module.

mod auth;
mod buyer_setup;
mod client_onboarding;
mod connections;
mod contract;
mod cross_account;
mod end_to_end;
mod flows;
mod idempotency;
mod invitations;
mod leads;
mod local_http;
mod local_stream;
mod notices;
mod onboards;
mod openapi;
mod operations;
mod people;
mod probe;
mod rate_limit;
mod reports;
mod security;
mod webhooks;
