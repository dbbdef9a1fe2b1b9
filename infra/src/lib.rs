//! The local stack and operator tooling: template.yaml as the one declaration of routes,
//! table and queues; bootstrap of those on moto (or any AWS endpoint); a local API Gateway.

pub mod bootstrap;
pub mod local_api;
pub mod pipeline;
pub mod queues;
pub mod template;

/// The SDK configuration for operator tools on a workstation: the full provider chain (profiles,
/// SSO, assumed roles), unlike the Lambda functions' lean `shared::platform::config::aws`. Endpoints resolve
/// as there: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then AWS.
pub async fn workstation_aws_config() -> aws_config::SdkConfig {
    workstation_loader().load().await
}

fn workstation_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(shared::platform::config::https_client(&|name| std::env::var(name).ok()))
}

/// The environment the local stack's functions are built from, as template.yaml sets it for the
/// deployed ones: the stack's table, sender and queues; then this process's environment; then the
/// local defaults: outbound webhooks to this machine allowed, retries 5 s apart, invitation links
/// to the local API on `port`.
pub fn local_env(config: &aws_config::SdkConfig, stack: &bootstrap::Stack, port: u16) -> shared::platform::config::Env {
    let queue = |logical_id: &str| stack.queues.get(logical_id).cloned().unwrap_or_default();
    let stack_vars = std::collections::HashMap::from([
        ("TABLE_NAME", stack.table.clone()),
        ("SENDER_EMAIL", stack.sender.clone()),
        ("BUYER_SETUP_QUEUE_URL", queue("BuyerSetupQueue")),
        ("WEBHOOK_DELIVERY_QUEUE_URL", queue("WebhookDeliveryQueue")),
        ("LEAD_DELIVERY_QUEUE_URL", queue("LeadDeliveryQueue")),
    ]);
    let defaults = std::collections::HashMap::from([
        ("WEBHOOK_LOCAL_MODE", "true".to_string()),
        ("WEBHOOK_RETRY_BASE_SECONDS", "5".to_string()),
        ("INVITATION_LINK_BASE", format!("http://127.0.0.1:{port}/invitations/claim")),
        ("API_URL", format!("http://127.0.0.1:{port}")),
    ]);
    shared::platform::config::Env::new(config.clone(), move |name| {
        stack_vars.get(name).cloned().or_else(|| std::env::var(name).ok()).or_else(|| defaults.get(name).cloned())
    })
    .with_dynamodb(aws_sdk_dynamodb::Client::new(config))
}

#[cfg(test)]
mod tests {
    use aws_types::os_shim_internal::Env;
    use aws_types::service_config::ServiceConfigKey;

    #[tokio::test]
    async fn the_workstation_config_resolves_service_endpoints_like_the_functions() {
        let env = Env::from_slice(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://everything:1"),
            ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://streams:3"),
        ]);
        let config = super::workstation_loader().env(env).load().await;
        let key = |id| ServiceConfigKey::builder().service_id(id).env("AWS_ENDPOINT_URL").profile("endpoint_url").build().expect("key");
        let service = config.service_config().expect("service config");
        assert_eq!(service.load_config(key("DynamoDB Streams")).as_deref(), Some("http://streams:3"));
        assert_eq!(service.load_config(key("SQS")).as_deref(), Some("http://everything:1"));
        assert_eq!(config.endpoint_url(), Some("http://everything:1"));
    }
}
