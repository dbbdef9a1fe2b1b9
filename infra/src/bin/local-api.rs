//! The whole API on localhost: creates template.yaml's table, queues and sender identity on the
//! endpoint in `AWS_ENDPOINT_URL` (infra/run starts moto for it), then serves every route.
//!
//! Environment: `PORT` (default 3000), `STACK_NAME` (default `onboarding-local`, the table name).

use std::sync::Arc;

use infra::local_api::{LocalApi, serve};
use infra::template::Template;
use shared::config::InvitationSettings;
use shared::mail::Mailer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::init_tracing();
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let stack_name = std::env::var("STACK_NAME").unwrap_or_else(|_| "onboarding-local".into());
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "AWS (no AWS_ENDPOINT_URL)".into());

    let template = Template::load()?;
    let config = infra::workstation_aws_config().await;
    let stack = infra::bootstrap::create_stack(&config, &template, &stack_name).await?;

    let db = shared::Db::new(aws_sdk_dynamodb::Client::new(&config), &stack.table);
    let mut settings = InvitationSettings::from_env()?;
    if std::env::var("INVITATION_LINK_BASE").is_err() {
        settings.link_base = format!("http://127.0.0.1:{port}/invitations/claim");
    }
    // Locally, webhooks may go to receivers on this machine (http, 127.0.0.1).
    let options = infra::registry::Options { partner_api_url: std::env::var("DIALOG360_PARTNER_API_URL").ok(), local_webhooks: true };
    let mailer = Mailer::new(aws_sdk_ses::Client::new(&config), &stack.sender);
    let handlers = infra::registry::handlers(db.clone(), mailer.clone(), settings, options);

    // The stream -> queue -> function pipelines, as Lambda's event sources would run them.
    let queue = |name: &str| stack.queues.get(name).cloned().ok_or(format!("template has no {name}"));
    let (setup_url, delivery_url) = (queue("BuyerSetupQueue")?, queue("WebhookDeliveryQueue")?);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queues = table_stream::Queues { sqs: sqs.clone(), buyer_setup_url: setup_url.clone(), webhook_delivery_url: delivery_url.clone() };
    let retry_base = std::time::Duration::from_secs(std::env::var("WEBHOOK_RETRY_BASE_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5));
    let deliverer = shared::deliver::Deliverer::new(db.clone(), shared::domain::webhook_endpoint::UrlPolicy { allow_private: true }, retry_base);
    let pipelines = infra::pipeline::Pipelines {
        stream: infra::pipeline::StreamReader::open(&config, &stack.table).await?,
        queues: Box::leak(Box::new(queues)),
        setups: infra::pipeline::QueueReader { sqs: sqs.clone(), url: setup_url },
        setup: Box::leak(Box::new(shared::setup::BuyerSetup { db: db.clone(), mailer: mailer.clone() })),
        deliveries: infra::pipeline::QueueReader { sqs: sqs.clone(), url: delivery_url.clone() },
        worker: Box::leak(Box::new(webhook_deliver::Worker { deliverer, sqs, queue_url: delivery_url })),
    };
    tokio::spawn(async move {
        if let Err(err) = pipelines.run().await {
            tracing::error!(error = %err, "local pipeline stopped");
        }
    });
    let api = Arc::new(LocalApi::new(&template, handlers)?);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("Local API listening on http://127.0.0.1:{port} ({} routes from template.yaml)", api.routes().count());
    println!("AWS endpoint: {endpoint}; table {}", stack.table);
    println!("Pipelines: table stream -> table-stream -> BuyerSetupQueue -> buyer-setup, and -> WebhookDeliveryQueue -> webhook-deliver (polling)");
    println!("Create an account, its first user and API key (printed once), from another shell:");
    println!("  infra/admin create-account --name 'Acme Leads' --email you@example.com --user-name You");
    println!("Then: curl -H 'Authorization: Bearer sk_live_...' http://127.0.0.1:{port}/connections");
    println!("Emails sent through SES are captured by moto: {endpoint}/moto-api/data.json (ses.Message)");
    serve(api, listener).await?;
    Ok(())
}
