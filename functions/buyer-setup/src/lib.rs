//! The buyer-setup queue's consumer. Messages are processed concurrently; a transient failure is
//! reported as a batch item failure (the queue redelivers it, and after five receives moves it to
//! the dead-letter queue); a permanent one is recorded on the onboard as `failed` and not retried.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::setup::{BuyerSetup, Mode, SetupRequest, is_permanent};

pub async fn handle(setup: &'static BuyerSetup, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for message in event.records {
        tasks.spawn(async move {
            let id = message.message_id.unwrap_or_default();
            let Some(request) = message.body.as_deref().and_then(|b| serde_json::from_str::<SetupRequest>(b).ok()) else {
                tracing::error!(message = %id, "malformed buyer-setup message dropped");
                return None;
            };
            match setup.run(&request, Mode::Async).await {
                Ok(done) => {
                    tracing::info!(connection = %request.connection_id, redirect = %done.redirect, "buyer setup done");
                    None
                }
                Err(err) if is_permanent(&err) => {
                    tracing::warn!(connection = %request.connection_id, error = %err, "buyer setup failed permanently");
                    match setup.record_failure(&request, &err).await {
                        Ok(()) => None,
                        Err(_) => Some(id),
                    }
                }
                Err(err) => {
                    tracing::error!(connection = %request.connection_id, error = %err, "buyer setup will be retried");
                    Some(id)
                }
            }
        });
    }
    let mut response = SqsBatchResponse::default();
    while let Some(result) = tasks.join_next().await {
        if let Some(item_identifier) = result? {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = item_identifier;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}
