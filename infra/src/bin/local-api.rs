//! The whole API on localhost, as API Gateway and Lambda serve it: every route of template.yaml,
//! on the stack's table (created if missing) at the endpoints the AWS environment names.
//! `infra/run` starts it next to `local-pipelines`.
//!
//! Environment: `PORT` (default 3000; 0 takes a free one), `STACK_NAME` (default
//! `onboarding-local`, the table name), `API_URL` (default the address it listens on),
//! `API_ADDRESS_FILE` (where to write `API_ADDRESS=<that address>` once listening: how `infra/run`
//! learns a port the kernel chose, with no window in which another process could take it).

use std::sync::Arc;

use infra::local_api::{LocalApi, serve};
use infra::template::Template;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::platform::lambda::init_tracing();
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let stack_name = std::env::var("STACK_NAME").unwrap_or_else(|_| "onboarding-local".into());

    // Bound first: the address is this process's from now on, whatever port it asked for.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();

    let template = Template::load()?;
    let config = infra::workstation_aws_config().await;
    let stack = infra::bootstrap::create_stack(&config, &template, &stack_name).await?;

    let api = Arc::new(LocalApi::new(&template, functions::registry::handlers(&infra::local_env(&config, &stack, port))?)?);

    let address = format!("http://127.0.0.1:{port}");
    if let Ok(file) = std::env::var("API_ADDRESS_FILE") {
        // Written whole, then renamed: a reader never sees half an address.
        let partial = format!("{file}.partial");
        std::fs::write(&partial, format!("API_ADDRESS={address}\n"))?;
        std::fs::rename(&partial, &file)?;
    }
    println!("Local API listening on {address} ({} routes from template.yaml; GET /health answers once ready)", api.routes().count());
    serve(api, listener).await?;
    Ok(())
}
