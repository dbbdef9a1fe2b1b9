//! The local stack and operator tooling: template.yaml as the one declaration of routes,
//! table and queues; bootstrap of those on moto (or any AWS endpoint); a local API Gateway.

pub mod bootstrap;
pub mod local_api;
pub mod registry;
pub mod template;
