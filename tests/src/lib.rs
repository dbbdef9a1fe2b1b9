//! Test support: a fresh table per test environment on the endpoints the AWS environment names
//! (infra/test starts DynamoDB Local, and moto for SQS and SES), requests dispatched through the
//! local API Gateway exactly as the deployed API would route them, and moto's captured email.
//!
//! By concern: `environment` (the table, the local API, accounts, pages, email), `interceptors`
//! (counting and gating the SDK's DynamoDB calls), `requests` (bulk and racing requests, error
//! assertions), `responses` (the API's answers as types), `pipeline` (the stream and queues, driven by hand) and `fake_server` (a
//! provider's API).

mod environment;
mod fake_server;
mod interceptors;
pub mod openapi;
mod pipeline;
mod requests;
mod responses;

pub use environment::*;
pub use fake_server::*;
pub use interceptors::*;
pub use pipeline::*;
pub use requests::*;
pub use responses::*;
