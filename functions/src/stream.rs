//! The table's stream router.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::platform::config::{ConfigError, Env, FromEnv};
use shared::store::stream::{completion, new_delivery, new_lead};

pub struct Queues {
    /// Built at the first message sent, not at cold start.
    pub sqs: shared::platform::config::LazyClient<aws_sdk_sqs::Client>,
    pub buyer_setup_url: String,
    pub webhook_delivery_url: String,
    pub lead_delivery_url: String,
}

impl FromEnv for Queues {
    fn from_env(env: &Env) -> Result<Queues, ConfigError> {
        Ok(Queues {
            sqs: env.client(aws_sdk_sqs::Client::new)?,
            buyer_setup_url: env.required("BUYER_SETUP_QUEUE_URL")?,
            webhook_delivery_url: env.required("WEBHOOK_DELIVERY_QUEUE_URL")?,
            lead_delivery_url: env.required("LEAD_DELIVERY_QUEUE_URL")?,
        })
    }
}

/// The table's stream router: each onboard that becomes `completed` (or `completed_flows_sync`)
/// is a message on the buyer-setup queue; each new outbound webhook delivery (an outbox item) is
/// a message on the delivery queue; each new lead with a buyer step to deliver, a message on the
/// lead-delivery queue. A record whose message could not be sent is reported as a
/// batch item failure, so the stream retries from it (the template bisects and bounds that).
pub async fn route(queues: &Queues, event: Event) -> Result<DynamoDbEventResponse, lambda_http::Error> {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let (url, body, what) = if let Some(request) = completion(record) {
            (&queues.buyer_setup_url, serde_json::to_string(&request)?, "buyer setup")
        } else if let Some(message) = new_delivery(record) {
            (&queues.webhook_delivery_url, serde_json::to_string(&message)?, "webhook delivery")
        } else if let Some(message) = new_lead(record) {
            (&queues.lead_delivery_url, serde_json::to_string(&message)?, "lead delivery")
        } else {
            continue;
        };
        if let Err(err) = queues.sqs.get().send_message().queue_url(url).message_body(body).send().await {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), what, "could not queue");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            // The stream restarts from the first failure: later records are retried with it.
            break;
        }
        tracing::info!(what, "queued");
    }
    Ok(response)
}
