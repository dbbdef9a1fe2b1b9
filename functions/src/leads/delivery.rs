//! Buyer-step delivery: the lead-delivery queue's consumer.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::leads::domain::lead::LeadMessage;
use shared::leads::service::Leads;
use shared::platform::lambda::Outcome;

/// Each message delivers one lead's pending buyer steps, in order, each settled once (a
/// redelivered message finds them settled). A failure is a batch item failure: the queue
/// redelivers it, and after five receives moves it to the dead-letter queue.
pub async fn consume_queue(leads: &'static Leads, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    shared::platform::lambda::sqs_batch(event, |message| async move {
        let Some(lead) = message.body.as_deref().and_then(|b| serde_json::from_str::<LeadMessage>(b).ok()) else {
            tracing::error!(message = ?message.message_id, "malformed lead-delivery message dropped");
            return Outcome::Settled;
        };
        match leads.deliver(&lead).await {
            Ok(()) => Outcome::Settled,
            Err(err) => {
                tracing::error!(lead = %lead.lead_id, error = %err, "lead delivery will be retried");
                Outcome::Retry
            }
        }
    })
    .await
}
