//! The buyer-setup queue's consumer. Messages are processed concurrently; a transient failure is
//! reported as a batch item failure (the queue redelivers it, and after five receives moves it to
//! the dead-letter queue); a permanent one is recorded on the onboard as `failed` and not retried.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::setup::{BuyerSetup, Mode, SetupRequest, is_permanent};

pub async fn handle(setup: &'static BuyerSetup, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    shared::lambda::sqs_batch(event, |message| async move {
        let Some(request) = message.body.as_deref().and_then(|b| serde_json::from_str::<SetupRequest>(b).ok()) else {
            tracing::error!(message = ?message.message_id, "malformed buyer-setup message dropped");
            return true;
        };
        match setup.run(&request, Mode::Async).await {
            Ok(done) => {
                tracing::info!(connection = %request.connection_id, redirect = %done.redirect, "buyer setup done");
                true
            }
            Err(err) if is_permanent(&err) => {
                tracing::warn!(connection = %request.connection_id, error = %err, "buyer setup failed permanently");
                setup.record_failure(&request, &err).await.is_ok()
            }
            Err(err) => {
                tracing::error!(connection = %request.connection_id, error = %err, "buyer setup will be retried");
                false
            }
        }
    })
    .await
}
