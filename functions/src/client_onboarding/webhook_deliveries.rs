//! Outbound webhook deliveries: listed, replayed, and attempted from their queue.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::platform::lambda::Outcome;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::config::{ConfigError, Env, FromEnv};
use shared::client_onboarding::deliver::{Deliverer, Next};
use shared::client_onboarding::domain::webhook_endpoint::DeliveryMessage;
use shared::platform::http::{HandlerResult, named, named_page, page_request, path_id};
use shared::platform::idempotency::once;

pub struct Worker {
    pub deliverer: Deliverer,
    /// Built at the first message sent, not at cold start.
    pub sqs: shared::platform::config::LazyClient<aws_sdk_sqs::Client>,
    pub queue_url: String,
}

impl FromEnv for Worker {
    fn from_env(env: &Env) -> Result<Worker, ConfigError> {
        Ok(Worker {
            deliverer: Deliverer::from_env(env)?,
            sqs: env.client(aws_sdk_sqs::Client::new)?,
            queue_url: env.required("WEBHOOK_DELIVERY_QUEUE_URL")?,
        })
    }
}

impl Worker {
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

/// The webhook delivery queue's consumer. Each message is one attempt at one delivery; a
/// retryable failure (5xx, 429, timeout, no connection) is recorded and the message sent again
/// with the backoff as its delay (SQS holds it up to 15 minutes), so the log shows every attempt
/// and the queue, not a sleeping function, waits. A failure to record or re-queue is a batch
/// item failure: SQS redelivers the message, and the delivery's state makes that idempotent.
pub async fn consume_queue(worker: &'static Worker, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    shared::platform::lambda::sqs_batch(event, |message| async move {
        match worker.process(message.body.as_deref().unwrap_or_default()).await {
            Ok(()) => Outcome::Settled,
            Err(error) => {
                tracing::error!(message = ?message.message_id, %error, "webhook delivery will be redelivered");
                Outcome::Retry
            }
        }
    })
    .await
}

/// `GET /api/v1/webhooks/{id}/deliveries`: every delivery to an endpoint with each attempt, newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named_page(&req, "deliveries", &db.client_onboarding().deliveries(&caller.account_id, &path_id(&req, "id")?, &page_request(&req)?).await?)
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/replay`: send a delivery's event again.
pub async fn replay(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let replay = db.client_onboarding().replay_delivery(&caller.account_id, &path_id(&req, "id")?, &path_id(&req, "delivery_id")?).await?;
        named(StatusCode::ACCEPTED, "delivery", &replay)
    })
    .await
}
