//! The table's stream consumer: each onboard that becomes `completed` (or `completed_flows_sync`)
//! is one message on the buyer-setup queue. A record whose message could not be sent is reported
//! as a batch item failure, so the stream retries from it (the template bisects and bounds that).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::pipeline::completion;

pub struct Queue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
}

impl Queue {
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Queue, shared::config::ConfigError> {
        Ok(Queue { sqs: aws_sdk_sqs::Client::new(config), url: shared::config::required("BUYER_SETUP_QUEUE_URL")? })
    }
}

pub async fn handle(queue: &Queue, event: Event) -> Result<DynamoDbEventResponse, lambda_http::Error> {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(request) = completion(record) else { continue };
        let body = serde_json::to_string(&request)?;
        if let Err(err) = queue.sqs.send_message().queue_url(&queue.url).message_body(body).send().await {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not queue a buyer setup");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            // The stream restarts from the first failure: later records are retried with it.
            break;
        }
        tracing::info!(onboard = ?request.onboard_id, "buyer setup queued");
    }
    Ok(response)
}
