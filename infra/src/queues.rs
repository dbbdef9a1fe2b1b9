//! The stack's queues for the operator (`infra/admin`): finding one, and moving a dead-letter
//! queue's messages back to the queue they failed from (`redrive`), counted first and moved only
//! when asked. Each message is sent to the source before it
//! is deleted from the dead-letter queue, so a failure between the two leaves a copy in both
//! (handled twice, which every consumer tolerates) rather than none.

use aws_sdk_sqs::types::QueueAttributeName;

use crate::template::Template;

#[derive(Debug, serde::Serialize, PartialEq, Eq)]
pub struct Redrive {
    /// What the dead-letter queue held when asked (SQS's approximate count).
    pub counted: u64,
    /// Moved back to the source queue (0 on a dry run).
    pub moved: u64,
    pub dry_run: bool,
}

/// The queue whose failed messages land in `dead_letter` (its logical id in the template).
pub fn source_of(template: &Template, dead_letter: &str) -> Result<String, String> {
    let queues = template.queues()?;
    if !queues.iter().any(|q| q.logical_id == dead_letter) {
        return Err(format!("{dead_letter} is not a queue of the template"));
    }
    queues
        .into_iter()
        .find(|q| q.redrive.as_ref().is_some_and(|(dlq, _)| dlq == dead_letter))
        .map(|q| q.logical_id)
        .ok_or(format!("{dead_letter} is no queue's dead-letter queue: nothing to redrive it to"))
}

/// Counts the dead-letter queue's messages and, unless `dry_run`, moves them to `source`.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, dead_letter_url: &str, source_url: &str, dry_run: bool) -> Result<Redrive, String> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(dead_letter_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| format!("counting {dead_letter_url}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    let counted = attributes.attributes().and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages)).and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut moved = 0;
    while !dry_run {
        let received = sqs
            .receive_message()
            .queue_url(dead_letter_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| format!("receiving: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            sqs.send_message()
                .queue_url(source_url)
                .message_body(message.body.unwrap_or_default())
                .send()
                .await
                .map_err(|e| format!("sending to {source_url}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            if let Some(receipt) = message.receipt_handle {
                sqs.delete_message()
                    .queue_url(dead_letter_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| format!("deleting the moved message: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            }
            moved += 1;
        }
    }
    Ok(Redrive { counted, moved, dry_run })
}

/// A queue's URL: `QUEUE_URL_<LogicalId>` when set (a deployed stack's outputs), else the local
/// stack's queue of that name (`<table>-<LogicalId>`).
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, table: &str, logical_id: &str) -> Result<String, String> {
    if let Ok(url) = std::env::var(format!("QUEUE_URL_{logical_id}")) {
        return Ok(url);
    }
    let name = format!("{table}-{logical_id}");
    sqs.get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .map_err(|e| format!("no queue {name} (on AWS, set QUEUE_URL_{logical_id} from the stack's outputs): {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .queue_url
        .ok_or(format!("no URL for {name}"))
}
