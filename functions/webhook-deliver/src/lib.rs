//! The webhook delivery queue's consumer. Each message is one attempt at one delivery; a
//! retryable failure (5xx, 429, timeout, no connection) is recorded and the message sent again
//! with the backoff as its delay (SQS holds it up to 15 minutes), so the log shows every attempt
//! and the queue, not a sleeping function, waits. A failure to record or re-queue is a batch
//! item failure: SQS redelivers the message, and the delivery's state makes that idempotent.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::deliver::{Deliverer, Next};
use shared::domain::webhook_endpoint::DeliveryMessage;

pub struct Worker {
    pub deliverer: Deliverer,
    /// Built at the first message sent, not at cold start.
    pub sqs: shared::config::LazyClient<aws_sdk_sqs::Client>,
    pub queue_url: String,
}

impl Worker {
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Worker, shared::config::ConfigError> {
        Ok(Worker {
            deliverer: Deliverer::from_env(shared::Db::from_env(config)?),
            sqs: shared::config::LazyClient::from_config(config, aws_sdk_sqs::Client::new),
            queue_url: shared::config::required("WEBHOOK_DELIVERY_QUEUE_URL")?,
        })
    }

    /// One message: `Err` means "leave it to SQS to redeliver".
    async fn process(&self, body: &str) -> Result<(), String> {
        let Ok(message) = serde_json::from_str::<DeliveryMessage>(body) else {
            tracing::error!(body, "malformed webhook delivery message dropped");
            return Ok(());
        };
        match self.deliverer.attempt(&message).await.map_err(|e| e.to_string())? {
            Next::Done => Ok(()),
            Next::RetryIn(delay) => {
                let seconds = i32::try_from(delay.as_secs()).unwrap_or(900);
                self.sqs.get().send_message().queue_url(&self.queue_url).message_body(body).delay_seconds(seconds).send().await.map(|_| ()).map_err(|e| {
                    format!("re-queueing the retry failed: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
                })
            }
        }
    }
}

pub async fn handle(worker: &'static Worker, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    shared::lambda::sqs_batch(event, |message| async move {
        match worker.process(message.body.as_deref().unwrap_or_default()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(message = ?message.message_id, %error, "webhook delivery will be redelivered");
                false
            }
        }
    })
    .await
}
