//! The table stream → table-stream → BuyerSetupQueue → buyer-setup, → WebhookDeliveryQueue →
//! webhook-deliver and → LeadDeliveryQueue → lead-deliver pipelines, as Lambda's event source mappings run them, in a process of their
//! own (`infra/run` restarts it if it dies). The stream position is checkpointed in
//! `STREAM_CHECKPOINT`, so a restart resumes where the last run stopped.
//!
//! Environment: `STACK_NAME` (default `onboarding-local`), `STREAM_CHECKPOINT` (a file path; unset:
//! in memory), `PORT` (the local API's, for invitation links), and the functions' own variables
//! (`infra::local_env`; `WEBHOOK_RETRY_BASE_SECONDS` defaults to 5 here).

use functions::client_onboarding::webhook_deliveries::Worker;
use functions::stream::Queues;
use shared::leads::service::Leads;
use infra::pipeline::{QueueReader, Start, StreamReader};
use infra::template::Template;
use shared::platform::config::FromEnv;
use shared::onboards::buyer_setup::BuyerSetup;

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::platform::lambda::init_tracing();
    let stack_name = std::env::var("STACK_NAME").unwrap_or_else(|_| "onboarding-local".into());
    let checkpoint = std::env::var_os("STREAM_CHECKPOINT").map(std::path::PathBuf::from);
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);

    let template = Template::load()?;
    let config = infra::workstation_aws_config().await;
    let stack = infra::bootstrap::create_stack(&config, &template, &stack_name).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = |name: &str| stack.queues.get(name).cloned().ok_or(format!("template has no {name}"));
    let (setup_url, delivery_url, lead_url) = (queue("BuyerSetupQueue")?, queue("WebhookDeliveryQueue")?, queue("LeadDeliveryQueue")?);

    // Built as the deployed functions build theirs.
    let env = infra::local_env(&config, &stack, port);
    let queues = leak(Queues::from_env(&env)?);
    let setup = leak(BuyerSetup::from_env(&env)?);
    let worker = leak(Worker::from_env(&env)?);
    let leads = leak(Leads::from_env(&env)?);

    let stream = StreamReader::open(&config, &stack.table, Start::TrimHorizon, checkpoint.clone()).await?;
    // The figures consumer reads the same stream from a checkpoint of its own.
    let figures_checkpoint = checkpoint.map(|path| path.with_extension("figures"));
    let figures_stream = StreamReader::open(&config, &stack.table, Start::TrimHorizon, figures_checkpoint).await?;
    let db = leak(shared::store::Db::from_env(&env)?);
    println!("Pipelines: table stream -> table-stream -> BuyerSetupQueue -> buyer-setup, -> WebhookDeliveryQueue -> webhook-deliver, and -> LeadDeliveryQueue -> lead-deliver; table stream -> lead-figures");
    tokio::join!(
        infra::pipeline::run_stream("table stream", stream, |changes| functions::stream::route(queues, changes)),
        infra::pipeline::run_stream("lead figures", figures_stream, |changes| functions::leads::figures::count(db, changes)),
        infra::pipeline::run_queue("buyer setup", QueueReader { sqs: sqs.clone(), url: setup_url }, |event| functions::onboards::buyer_setup::consume_queue(setup, event)),
        infra::pipeline::run_queue("webhook delivery", QueueReader { sqs: sqs.clone(), url: delivery_url }, |event| functions::client_onboarding::webhook_deliveries::consume_queue(worker, event)),
        infra::pipeline::run_queue("lead delivery", QueueReader { sqs, url: lead_url }, |event| functions::leads::delivery::consume_queue(leads, event)),
    );
    Ok(())
}
