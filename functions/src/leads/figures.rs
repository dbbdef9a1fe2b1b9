//! The connections' delivery figures, counted from the table's stream: each batch of settled
//! buyer steps is one transaction per chunk (`PartnersTable::count_figures`), not a write per
//! lead on the connection every delivery shares.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::store::Db;
use shared::store::stream::settled_figures;

/// `lead-figures`: counts the batch's settled steps. A failure reports the batch's first record,
/// so the stream delivers it all again; steps counted before are counted once (their markers).
pub async fn count(db: &Db, event: Event) -> Result<DynamoDbEventResponse, lambda_http::Error> {
    let events: Vec<_> = event.records.iter().flat_map(settled_figures).collect();
    let mut response = DynamoDbEventResponse::default();
    if events.is_empty() {
        return Ok(response);
    }
    match db.partners().count_figures(&events).await {
        Ok(()) => tracing::info!(steps = events.len(), "delivery figures counted"),
        Err(err) => {
            tracing::error!(error = %err, steps = events.len(), "delivery figures not counted; the batch will be retried");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = event.records.first().and_then(|r| r.change.sequence_number.clone());
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}
