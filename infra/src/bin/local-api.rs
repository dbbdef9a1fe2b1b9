//! The whole API on localhost, as API Gateway and Lambda serve it: every route of template.yaml,
//! on the stack's table (created if missing) at the endpoints the AWS environment names.
//! `infra/run` starts it next to `local-pipelines`.
//!
//! Environment: `PORT` (default 3000), `STACK_NAME` (default `onboarding-local`, the table name).

use std::sync::Arc;

use infra::local_api::{LocalApi, serve};
use infra::template::Template;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::platform::lambda::init_tracing();
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let stack_name = std::env::var("STACK_NAME").unwrap_or_else(|_| "onboarding-local".into());

    let template = Template::load()?;
    let config = infra::workstation_aws_config().await;
    let stack = infra::bootstrap::create_stack(&config, &template, &stack_name).await?;

    let api = Arc::new(LocalApi::new(&template, functions::registry::handlers(&infra::local_env(&config, &stack, port))?)?);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("Local API listening on http://127.0.0.1:{port} ({} routes from template.yaml; GET /health answers once ready)", api.routes().count());
    serve(api, listener).await?;
    Ok(())
}
