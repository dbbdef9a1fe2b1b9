//! The local stack and operator tooling: template.yaml as the one declaration of routes,
//! table and queues; bootstrap of those on moto (or any AWS endpoint); a local API Gateway.

pub mod bootstrap;
pub mod local_api;
pub mod pipeline;
pub mod registry;
pub mod template;

/// The SDK configuration for operator tools on a workstation: the full provider chain (profiles,
/// SSO, assumed roles), unlike the Lambda functions' lean `shared::config::aws`.
pub async fn workstation_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(shared::config::https_client()).load().await
}
