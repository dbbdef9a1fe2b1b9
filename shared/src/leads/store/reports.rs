//! Partner reporting's figures (issue 29): one item per report and bucket
//! (`REPORT#<dimension>` / `hour#2026-12-05T10` or `day#2026-12-05`), added to from the table's
//! stream a batch at a time — one write per report and bucket a batch touches, however many leads
//! it holds — and read back with one Query per report.
//!
//! Each batch is counted once however often the stream delivers it: a transaction adds a chunk of
//! consecutive records' sums and puts the chunk's marker (`REPORTED#<first record id>`: how many
//! records with something to count it covers, and the last of them), so a redelivered batch
//! finds the marker where the chunk started and skips what it covers. This relies on what Lambda
//! guarantees a stream consumer: a shard's records in order, one consumer per shard (no
//! `ParallelizationFactor`), and — with `BisectBatchOnFunctionError` off, as `lead-figures` has it
//! — a retry that starts at the batch's first record or at the record the consumer reported (the
//! first of a chunk not committed) and holds at least the records it held before.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::leads::domain::reports::{Bucket, Dimension, Figures, PROCESSING_BINS_MS, ReportEvent, ReportRange, aggregate};
use crate::platform::error::ApiError;
use crate::store::keys::{self, Item, ItemType, Key};
use crate::store::leads::LeadsTable;
use crate::store::tx::{MAX_TRANSACTION_ITEMS, Part, TxError, Write, busy};

/// Longer than the stream keeps a record (24 h): a redelivered batch always finds its marker.
const MARKER_TTL: Duration = Duration::from_secs(2 * 86_400);

/// One stream record, by its id, and what it adds to reports (nothing, for most records).
#[derive(Clone, Debug)]
pub struct StreamedEvents {
    pub record_id: String,
    pub events: Vec<ReportEvent>,
}

/// Counting stopped at `from` (an index into the records): every record before it is counted.
#[derive(Debug)]
pub struct Uncounted {
    pub from: usize,
    pub error: ApiError,
}

fn partition(dimension: &Dimension) -> String {
    match dimension {
        Dimension::Account(account) => format!("REPORT#{account}"),
        Dimension::Flow { account, flow } => format!("REPORT#{account}#FLOW#{flow}"),
        Dimension::Source { account, entity } => format!("REPORT#{account}#SOURCE#{entity}"),
        Dimension::Connection { connection, from } => format!("REPORT#CONNECTION#{connection}#FROM#{from}"),
    }
}

fn sort_key(bucket: &Bucket) -> String {
    match bucket {
        Bucket::Hour(hour) => format!("hour#{hour}"),
        Bucket::Day(day) => format!("day#{day}"),
    }
}

fn bucket_of(sort_key: &str) -> Option<Bucket> {
    match sort_key.split_once('#')? {
        ("hour", hour) => Some(Bucket::Hour(hour.to_string())),
        ("day", day) => Some(Bucket::Day(day.to_string())),
        _ => None,
    }
}

fn marker(record_id: &str) -> Key {
    Key { pk: format!("REPORTED#{record_id}"), sk: "records".into() }
}

/// A reason's attribute suffix: attribute names are letters, digits and `_`, reasons are text;
/// the text itself is kept beside the count (`reason_<suffix>`).
fn reason_suffix(reason: &str) -> String {
    crate::platform::secret::hash(reason)[..16].to_string()
}

const PROCESSING_ATTRIBUTES: [&str; PROCESSING_BINS_MS.len() + 1] =
    ["ms_100", "ms_250", "ms_500", "ms_1000", "ms_2000", "ms_5000", "ms_10000", "ms_30000", "ms_60000", "ms_300000", "ms_over"];

/// The update adding `figures` to a report's bucket (only what moved).
fn add_figures(key: Key, figures: &Figures) -> Write {
    let number = |n: u64| AttributeValue::N(n.to_string());
    let mut write = Write::update(Part::Report, key).set(keys::TYPE, keys::string(ItemType::Report.as_str()));
    for (name, n) in [("submitted", figures.submitted), ("accepted", figures.accepted), ("delivered", figures.delivered)] {
        if n > 0 {
            write = write.add(name, number(n));
        }
    }
    let reason_counts = [("rejected", &figures.rejected_by_reason), ("buyer_rejected", &figures.buyer_rejected_by_reason), ("failed", &figures.failed_by_reason), ("skipped", &figures.skipped_by_reason)];
    for (prefix, reasons) in reason_counts {
        for (reason, n) in reasons {
            let suffix = reason_suffix(reason);
            write = write.add(&format!("{prefix}_{suffix}"), number(*n)).set(&format!("reason_{suffix}"), keys::string(reason.as_str()));
        }
    }
    for (name, n) in PROCESSING_ATTRIBUTES.iter().zip(figures.processing_bins) {
        if n > 0 {
            write = write.add(name, number(n));
        }
    }
    write
}

/// A stored bucket's figures.
fn figures_of(item: &Item) -> Figures {
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let mut figures = Figures { submitted: number("submitted"), accepted: number("accepted"), delivered: number("delivered"), ..Figures::default() };
    for (name, value) in item {
        let Some((prefix, suffix)) = name.rsplit_once('_') else { continue };
        let reasons = match prefix {
            "rejected" => &mut figures.rejected_by_reason,
            "buyer_rejected" => &mut figures.buyer_rejected_by_reason,
            "failed" => &mut figures.failed_by_reason,
            "skipped" => &mut figures.skipped_by_reason,
            _ => continue,
        };
        let reason = item.get(&format!("reason_{suffix}")).and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| suffix.to_string());
        *reasons.entry(reason).or_default() += value.as_n().ok().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    }
    for (bin, name) in PROCESSING_ATTRIBUTES.iter().enumerate() {
        figures.processing_bins[bin] = number(name);
    }
    figures
}

/// How far, from `start`, one transaction reaches: as many records as keep its writes (a
/// bucket each, and the marker) within a transaction's limit — however many, when they touch
/// few reports (a busy flow's whole batch is one transaction).
fn chunk_end(records: &[StreamedEvents], start: usize) -> usize {
    let mut buckets = BTreeSet::new();
    let mut end = start;
    while end < records.len() {
        let more: BTreeSet<_> = aggregate(&records[end].events).into_keys().collect();
        let merged = buckets.union(&more).count();
        if end > start && merged + 1 > MAX_TRANSACTION_ITEMS {
            break;
        }
        buckets.extend(more);
        end += 1;
    }
    end
}

/// What a chunk's marker says: how many records with something to count it covers, from the one
/// it is named after, and the last of them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Covered {
    records: usize,
    last: String,
}

/// Where a chunk counted before ends in this batch, from `start` (its first record): `covered`'s
/// records with something to count, skipping those without (the marker does not count them).
fn skip_covered(records: &[StreamedEvents], start: usize, covered: &Covered) -> Result<usize, String> {
    let (mut at, mut seen) = (start, 0);
    while at < records.len() && seen < covered.records {
        seen += usize::from(!records[at].events.is_empty());
        at += 1;
    }
    match records[..at].iter().rev().find(|r| !r.events.is_empty()) {
        Some(last) if seen == covered.records && last.record_id == covered.last => Ok(at),
        Some(_) if seen == covered.records => Err(format!("the records from {} are not those counted before (up to {})", records[start].record_id, covered.last)),
        _ => Err(format!("a batch ended inside the {} records counted from {} (a bisected batch?)", covered.records, records[start].record_id)),
    }
}

impl LeadsTable<'_> {
    /// Adds a batch of stream records' events to their reports, each record once. `Err`: the
    /// records from `from` on are not counted (those before are), to be delivered again.
    pub async fn count_reports(&self, records: &[StreamedEvents]) -> Result<(), Uncounted> {
        let mut at = 0;
        while at < records.len() {
            if records[at].events.is_empty() {
                at += 1;
                continue;
            }
            let failed = |error| Uncounted { from: at, error };
            if let Some(covered) = self.covered_by(&records[at].record_id).await.map_err(failed)? {
                at = skip_covered(records, at, &covered).map_err(|e| failed(ApiError::Internal(format!("reports: {e}"))))?;
                continue;
            }
            let end = chunk_end(records, at);
            let chunk = &records[at..end];
            let counted: Vec<&StreamedEvents> = chunk.iter().filter(|r| !r.events.is_empty()).collect();
            let covered = Covered { records: counted.len(), last: counted[counted.len() - 1].record_id.clone() };
            let events: Vec<ReportEvent> = chunk.iter().flat_map(|r| r.events.iter().cloned()).collect();
            let mut writes = vec![marker_write(&records[at].record_id, &covered)];
            writes.extend(aggregate(&events).iter().map(|((dimension, bucket), figures)| add_figures(Key { pk: partition(dimension), sk: sort_key(bucket) }, figures)));
            match self.db.transact(writes).await {
                Ok(()) => at = end,
                // Counted meanwhile (a retry overlapping this one): the marker is read again.
                Err(TxError::Condition(Part::Reported)) => {}
                Err(TxError::Condition(part)) => return Err(failed(ApiError::Internal(format!("counting reports: the {part:?} write's condition failed")))),
                Err(TxError::Busy) => return Err(failed(busy())),
                Err(TxError::Other(e)) => return Err(failed(e)),
            }
        }
        Ok(())
    }

    /// What the chunk counted from `record_id` on covers, if one was.
    async fn covered_by(&self, record_id: &str) -> Result<Option<Covered>, ApiError> {
        let Some(item) = self.db.get(&marker(record_id)).await? else { return Ok(None) };
        let records = item.get("records").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
        let last = item.get("last").and_then(|v| v.as_s().ok()).cloned();
        match (records, last) {
            (Some(records), Some(last)) => Ok(Some(Covered { records, last })),
            _ => Err(ApiError::Internal(format!("the report marker of {record_id} says nothing"))),
        }
    }

    /// A report's buckets in `range` that hold anything (one Query, paged by DynamoDB past
    /// 1 MB: a 31-day hourly report is 744 items at most).
    pub async fn report(&self, dimension: &Dimension, range: &ReportRange) -> Result<BTreeMap<Bucket, Figures>, ApiError> {
        let (first, last) = range.bounds();
        let values = [(":first", sort_key(&first)), (":last", sort_key(&last))];
        let items = self.db.query_all(None, (keys::PK, keys::SK), partition(dimension), "#sk BETWEEN :first AND :last", &values).await?;
        Ok(items.iter().filter_map(|item| Some((bucket_of(item.get(keys::SK)?.as_s().ok()?)?, figures_of(item)))).collect())
    }
}

fn marker_write(first: &str, covered: &Covered) -> Write {
    let key = marker(first);
    let mut item = key.to_item();
    item.insert(keys::TYPE.into(), keys::string(ItemType::ReportedRecords.as_str()));
    item.insert("records".into(), AttributeValue::N(covered.records.to_string()));
    item.insert("last".into(), keys::string(covered.last.as_str()));
    item.insert(keys::TTL.into(), keys::expires_after(MARKER_TTL));
    Write::put(Part::Reported, key, item).only_if("attribute_not_exists(#pk)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::domain::delivery::Figure;
    use crate::platform::id::Id;

    fn record(id: &str, events: usize) -> StreamedEvents {
        let event = ReportEvent::Settled {
            seller: Id::generate(),
            flow: Id::generate(),
            source: Id::generate(),
            connection: Id::generate(),
            figure: Figure::Delivered,
            reason: None,
            processing_ms: 10,
            at: crate::platform::time::Timestamp::parse("2026-12-05T10:00:00Z").unwrap(),
        };
        StreamedEvents { record_id: id.into(), events: vec![event; events] }
    }

    #[test]
    fn a_redelivered_batch_skips_what_a_marker_covers() {
        let covered = Covered { records: 3, last: "d".into() };
        let batch = [record("a", 1), record("b", 0), record("c", 1), record("d", 1), record("e", 1)];
        assert_eq!(skip_covered(&batch, 0, &covered), Ok(4));
        // Longer than before (more records came since): the rest is new.
        assert_eq!(skip_covered(&[record("x", 0), record("a", 1), record("c", 1), record("d", 1), record("f", 1)], 1, &covered), Ok(4));
        assert!(skip_covered(&[record("a", 1), record("b", 0), record("c", 1)], 0, &covered).is_err(), "shorter than what was counted");
        assert!(skip_covered(&[record("a", 1), record("c", 1), record("x", 1)], 0, &covered).is_err(), "not the records counted");
    }

    #[test]
    fn a_chunk_stays_within_a_transaction() {
        // Each record touches 4 reports × 2 buckets of its own: 12 records fill 96 writes + a marker.
        let records: Vec<StreamedEvents> = (0..30).map(|i| record(&i.to_string(), 1)).collect();
        assert_eq!(chunk_end(&records, 0), 12);
        assert_eq!(chunk_end(&records, 28), 30);
        // Records of the same reports: one transaction however many.
        let same = record("s", 1);
        let busy: Vec<StreamedEvents> = (0..1000).map(|i| StreamedEvents { record_id: i.to_string(), events: same.events.clone() }).collect();
        assert_eq!(chunk_end(&busy, 0), 1000);
    }

    #[test]
    fn stored_figures_read_back_as_they_were_added() {
        let mut figures = Figures { submitted: 4, accepted: 3, delivered: 1, ..Figures::default() };
        figures.rejected_by_reason.insert("email is required".into(), 1);
        figures.failed_by_reason.insert("connection revoked".into(), 2);
        figures.skipped_by_reason.insert("buyer delivery to B is not set up".into(), 1);
        figures.processing_bins[3] = 3;
        figures.processing_bins[10] = 1;
        let write = add_figures(Key { pk: "p".into(), sk: "s".into() }, &figures);
        let item = write.applied_to_empty_item();
        assert_eq!(figures_of(&item), figures);
    }
}
