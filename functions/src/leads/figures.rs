//! The figures of leads, counted from the table's stream off the request path: the connections'
//! delivery figures (`PartnersTable::count_figures`, one transaction per chunk of settled steps)
//! and the partner reports (`LeadsTable::count_reports`, one write per report and bucket a batch
//! touches) — not a write per lead on items every delivery shares.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::leads::domain::reports::delivery_health;
use shared::platform::metrics::delivery_line;
use shared::store::Db;
use shared::store::stream::{report_events, settled_figures};

/// `lead-figures`: counts the batch. A failure reports the first record not counted everywhere,
/// so the stream delivers it and what follows again; what was counted before is counted once
/// (the figures' step markers, the reports' chunk markers).
pub async fn count(db: &Db, event: Event) -> Result<DynamoDbEventResponse, lambda_http::Error> {
    let figures: Vec<_> = event.records.iter().flat_map(settled_figures).collect();
    let reports: Vec<_> = event.records.iter().map(report_events).collect();
    let (partners, leads) = (db.partners(), db.leads());
    let (figured, reported) = tokio::join!(
        async {
            if figures.is_empty() {
                return Ok(());
            }
            partners.count_figures(&figures).await.map(|()| tracing::info!(steps = figures.len(), "delivery figures counted"))
        },
        leads.count_reports(&reports)
    );
    let mut uncounted_from = None;
    if let Err(err) = figured {
        tracing::error!(error = %err, steps = figures.len(), "delivery figures not counted; the batch will be retried");
        uncounted_from = Some(0);
    }
    match reported {
        Ok(()) => {
            let events: Vec<_> = reports.iter().flat_map(|r| r.events.iter().cloned()).collect();
            if !events.is_empty() {
                tracing::info!(events = events.len(), records = reports.len(), "report figures counted");
            }
            for (account, health) in delivery_health(&events) {
                println!("{}", delivery_line(account.as_str(), &health));
            }
        }
        Err(uncounted) => {
            tracing::error!(error = %uncounted.error, from = uncounted.from, records = reports.len(), "report figures not counted from this record; they will be retried");
            uncounted_from = Some(uncounted_from.map_or(uncounted.from, |from: usize| from.min(uncounted.from)));
        }
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(from) = uncounted_from {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = event.records.get(from).and_then(|r| r.change.sequence_number.clone());
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}
