//! The table stream → table-stream → BuyerSetupQueue → buyer-setup and → WebhookDeliveryQueue →
//! webhook-deliver pipelines, as Lambda's event source mappings run them, in a process of their
//! own (`infra/run` restarts it if it dies). The stream position is checkpointed in
//! `STREAM_CHECKPOINT`, so a restart resumes where the last run stopped.
//!
//! Environment: `STACK_NAME` (default `onboarding-local`), `STREAM_CHECKPOINT` (a file path; unset:
//! in memory), `WEBHOOK_RETRY_BASE_SECONDS` (default 5).

use std::time::Duration;

use infra::pipeline::{QueueReader, Start, StreamReader};
use infra::template::Template;
use shared::mail::Mailer;

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::init_tracing();
    let stack_name = std::env::var("STACK_NAME").unwrap_or_else(|_| "onboarding-local".into());
    let checkpoint = std::env::var_os("STREAM_CHECKPOINT").map(std::path::PathBuf::from);
    let retry_base = Duration::from_secs(std::env::var("WEBHOOK_RETRY_BASE_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5));

    let template = Template::load()?;
    let config = infra::workstation_aws_config().await;
    let stack = infra::bootstrap::create_stack(&config, &template, &stack_name).await?;
    let db = shared::Db::new(aws_sdk_dynamodb::Client::new(&config), &stack.table);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = |name: &str| stack.queues.get(name).cloned().ok_or(format!("template has no {name}"));
    let (setup_url, delivery_url) = (queue("BuyerSetupQueue")?, queue("WebhookDeliveryQueue")?);

    let queues = leak(table_stream::Queues { sqs: shared::config::LazyClient::ready(sqs.clone()), buyer_setup_url: setup_url.clone(), webhook_delivery_url: delivery_url.clone() });
    let setup = leak(shared::setup::BuyerSetup { db: db.clone(), mailer: Mailer::new(aws_sdk_ses::Client::new(&config), &stack.sender) });
    let url_policy = shared::domain::webhook_endpoint::UrlPolicy { allow_private: true };
    let deliverer = shared::deliver::Deliverer::new(db, url_policy, retry_base);
    let worker = leak(webhook_deliver::Worker { deliverer, sqs: shared::config::LazyClient::ready(sqs.clone()), queue_url: delivery_url.clone() });

    let stream = StreamReader::open(&config, &stack.table, Start::TrimHorizon, checkpoint).await?;
    println!("Pipelines: table stream -> table-stream -> BuyerSetupQueue -> buyer-setup, and -> WebhookDeliveryQueue -> webhook-deliver");
    tokio::join!(
        infra::pipeline::run_stream(stream, queues),
        infra::pipeline::run_queue("buyer setup", QueueReader { sqs: sqs.clone(), url: setup_url }, |event| buyer_setup::handle(setup, event)),
        infra::pipeline::run_queue("webhook delivery", QueueReader { sqs, url: delivery_url }, |event| webhook_deliver::handle(worker, event)),
    );
    Ok(())
}
