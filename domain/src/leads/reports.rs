//! Partner reporting's figures (issue 29), planned without AWS: what one change of a lead (as the
//! table's stream shows it) adds to which report, and how a batch of such changes becomes one sum
//! per report and time bucket — the writes a batch makes, however many leads it holds.
//!
//! A report is a dimension (the account, one of its flows, one of its sources across its flows, a
//! connection in one direction) and a bucket (an hour or a day, UTC). A connection's report is
//! the same for both of its sides, one per direction (the side the leads came from): the leads
//! that came into a flow over it (a source's submissions, a seller's deliveries, as the receiving
//! flow decided) and the buyer steps that settled over it. Processing time (submission → a buyer
//! step settled) is kept as counts in fixed histogram bins, so buckets add up exactly and any
//! range's p50/p95 come from the summed bins.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::leads::delivery::Figure;
use crate::leads::lead::{Lead, Origin, Outcome, StepOutcome};
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Upper bounds of the processing-time bins, in milliseconds; one more bin holds the rest.
pub const PROCESSING_BINS_MS: [u64; 10] = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000];

/// What a report is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Account(Id),
    Flow { account: Id, flow: Id },
    /// A partner (its entity) as a source of any of the account's flows.
    Source { account: Id, entity: Id },
    /// A connection, the leads `from` one of its sides sent over it (both sides read it).
    Connection { connection: Id, from: Id },
}

/// An hour (`2026-12-05T10`) or a day (`2026-12-05`), UTC.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    Hour(String),
    Day(String),
}

impl Bucket {
    /// The hour and the day `at` falls in.
    pub fn of(at: &str) -> [Bucket; 2] {
        [Bucket::Hour(at.get(..13).unwrap_or(at).to_string()), Bucket::Day(at.get(..10).unwrap_or(at).to_string())]
    }
}

/// One thing that happened to a lead, as reports count it.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportEvent {
    /// A lead came into a flow: accepted, or rejected with its reason.
    /// `origin`: the account and connection it came over, if it did.
    Submitted { account: Id, flow: Id, source: Id, origin: Option<Origin>, accepted: bool, reason: Option<String>, at: Timestamp },
    /// A buyer step settled over a connection: delivered (and accepted), rejected by the buyer's
    /// flow, or failed, with its reason and how long after the submission.
    Settled { seller: Id, flow: Id, source: Id, connection: Id, figure: Figure, reason: Option<String>, processing_ms: u64, at: Timestamp },
    /// A buyer step not attempted, with its reason (delivery to the buyer not set up, the hop or
    /// delivery budget used up): when the lead came in, or when its delivery found it so (then
    /// over its connection).
    NotAttempted { seller: Id, flow: Id, source: Id, connection: Option<Id>, reason: Option<String>, at: Timestamp },
}

/// The events of one change of a lead (`before`: none for a new lead).
pub fn report_events(before: Option<&Lead>, after: &Lead) -> Vec<ReportEvent> {
    let mut events = vec![];
    if before.is_none() {
        events.push(ReportEvent::Submitted {
            account: after.account_id.clone(),
            flow: after.flow_id.clone(),
            source: after.source.entity.id.clone(),
            origin: after.origin.clone(),
            accepted: after.outcome == Outcome::Success,
            reason: after.reason.clone(),
            at: after.created_at.clone(),
        });
    }
    let was_pending = |step_id: &Id| before.is_none_or(|b| b.steps.iter().any(|s| &s.step_id == step_id && s.outcome == StepOutcome::Pending));
    for step in after.steps.iter().filter(|s| s.outcome != StepOutcome::Pending && was_pending(&s.step_id)) {
        if step.outcome == StepOutcome::Skipped {
            events.push(ReportEvent::NotAttempted {
                seller: after.account_id.clone(),
                flow: after.flow_id.clone(),
                source: after.source.entity.id.clone(),
                connection: step.connection_id.clone(),
                reason: step.reason.clone(),
                at: step.at.clone().unwrap_or_else(|| after.created_at.clone()),
            });
            continue;
        }
        let (Some(connection), Some(figure), Some(at)) = (step.connection_id.clone(), step.figure(), step.at.clone()) else { continue };
        events.push(ReportEvent::Settled {
            seller: after.account_id.clone(),
            flow: after.flow_id.clone(),
            source: after.source.entity.id.clone(),
            connection,
            figure,
            reason: step.reason.clone(),
            processing_ms: elapsed_ms(&after.created_at, &at),
            at,
        });
    }
    events
}

/// Milliseconds from `from` to `to` (timestamps have whole seconds; 0 when out of order).
fn elapsed_ms(from: &str, to: &str) -> u64 {
    match (crate::platform::time::parse(from), crate::platform::time::parse(to)) {
        (Some(from), Some(to)) => to.duration_since(from).map_or(0, |d| d.as_millis() as u64),
        _ => 0,
    }
}

/// What one report holds for one bucket. Every field adds: two sums of the same report and
/// bucket make their sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub submitted: u64,
    pub accepted: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub delivered: u64,
    /// Rejected by a buyer's flow (its criteria), by reason.
    pub buyer_rejected_by_reason: BTreeMap<String, u64>,
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Buyer steps not attempted, by reason (not in the success rate: nothing was tried).
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Settled steps by processing-time bin (`PROCESSING_BINS_MS`, then the rest).
    pub processing_bins: [u64; PROCESSING_BINS_MS.len() + 1],
}

impl Figures {
    pub fn add(&mut self, other: &Figures) {
        self.submitted += other.submitted;
        self.accepted += other.accepted;
        self.delivered += other.delivered;
        for (mine, theirs) in [
            (&mut self.rejected_by_reason, &other.rejected_by_reason),
            (&mut self.buyer_rejected_by_reason, &other.buyer_rejected_by_reason),
            (&mut self.failed_by_reason, &other.failed_by_reason),
            (&mut self.skipped_by_reason, &other.skipped_by_reason),
        ] {
            for (reason, n) in theirs {
                *mine.entry(reason.clone()).or_default() += n;
            }
        }
        for (mine, theirs) in self.processing_bins.iter_mut().zip(other.processing_bins) {
            *mine += theirs;
        }
    }

    /// Delivered out of every settled step (delivered, rejected by the buyer, failed); `None`
    /// when nothing settled.
    pub fn success_rate(&self) -> Option<f64> {
        let settled = self.delivered + self.buyer_rejected_by_reason.values().sum::<u64>() + self.failed_by_reason.values().sum::<u64>();
        (settled > 0).then(|| self.delivered as f64 / settled as f64)
    }

    /// The upper bound of the bin the `q`-th quantile (0–1) of processing time falls in, in
    /// milliseconds (`None` for the last, unbounded bin, or when nothing settled).
    pub fn processing_quantile_ms(&self, q: f64) -> Option<u64> {
        let total: u64 = self.processing_bins.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bin, count) in self.processing_bins.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return PROCESSING_BINS_MS.get(bin).copied();
            }
        }
        None
    }

    fn settled(&mut self, figure: Figure, reason: Option<&str>, processing_ms: u64) {
        let reason = reason.unwrap_or("no reason given").to_string();
        match figure {
            Figure::Delivered => self.delivered += 1,
            Figure::Rejected => *self.buyer_rejected_by_reason.entry(reason).or_default() += 1,
            Figure::Failed => *self.failed_by_reason.entry(reason).or_default() += 1,
        }
        let bin = PROCESSING_BINS_MS.iter().position(|bound| processing_ms <= *bound).unwrap_or(PROCESSING_BINS_MS.len());
        self.processing_bins[bin] += 1;
    }
}

/// A batch's events summed per report and bucket: the increments one write each applies.
pub fn aggregate(events: &[ReportEvent]) -> BTreeMap<(Dimension, Bucket), Figures> {
    let mut sums: BTreeMap<(Dimension, Bucket), Figures> = BTreeMap::new();
    for event in events {
        let (dimensions, at) = match event {
            ReportEvent::Submitted { account, flow, source, origin, at, .. } => (dimensions(account, flow, source, origin.as_ref().map(|o| (&o.connection_id, &o.account_id))), at),
            ReportEvent::Settled { seller, flow, source, connection, at, .. } => (dimensions(seller, flow, source, Some((connection, seller))), at),
            ReportEvent::NotAttempted { seller, flow, source, connection, at, .. } => (dimensions(seller, flow, source, connection.as_ref().map(|c| (c, seller))), at),
        };
        for dimension in dimensions {
            for bucket in Bucket::of(at) {
                let figures = sums.entry((dimension.clone(), bucket)).or_default();
                match event {
                    ReportEvent::Submitted { accepted, reason, .. } => {
                        figures.submitted += 1;
                        if *accepted {
                            figures.accepted += 1;
                        } else {
                            *figures.rejected_by_reason.entry(reason.clone().unwrap_or_else(|| "no reason given".into())).or_default() += 1;
                        }
                    }
                    ReportEvent::Settled { figure, reason, processing_ms, .. } => figures.settled(*figure, reason.as_deref(), *processing_ms),
                    ReportEvent::NotAttempted { reason, .. } => *figures.skipped_by_reason.entry(reason.clone().unwrap_or_else(|| "no reason given".into())).or_default() += 1,
                }
            }
        }
    }
    sums
}

/// The reports a lead's event counts in: its account's, its flow's, its source's, and the
/// connection's it came or went over (`(connection, from)`: the side it came from).
fn dimensions(account: &Id, flow: &Id, source: &Id, over: Option<(&Id, &Id)>) -> Vec<Dimension> {
    let mut dimensions = vec![
        Dimension::Account(account.clone()),
        Dimension::Flow { account: account.clone(), flow: flow.clone() },
        Dimension::Source { account: account.clone(), entity: source.clone() },
    ];
    dimensions.extend(over.map(|(connection, from)| Dimension::Connection { connection: connection.clone(), from: from.clone() }));
    dimensions
}

/// One account's deliveries in a batch, as its alarms watch them (`platform::metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryHealth {
    /// Buyer steps settled: delivered, rejected by the buyer, or failed.
    pub settled: u64,
    pub failed: u64,
    /// Each settled step's processing time (submission → settled), in milliseconds.
    pub processing_ms: Vec<u64>,
}

impl DeliveryHealth {
    /// Failed out of settled, in percent.
    pub fn failure_rate(&self) -> f64 {
        if self.settled == 0 { 0.0 } else { self.failed as f64 * 100.0 / self.settled as f64 }
    }
}

/// The batch's settled steps by seller account.
pub fn delivery_health(events: &[ReportEvent]) -> BTreeMap<Id, DeliveryHealth> {
    let mut health: BTreeMap<Id, DeliveryHealth> = BTreeMap::new();
    for event in events {
        if let ReportEvent::Settled { seller, figure, processing_ms, .. } = event {
            let account = health.entry(seller.clone()).or_default();
            account.settled += 1;
            account.failed += u64::from(*figure == Figure::Failed);
            account.processing_ms.push(*processing_ms);
        }
    }
    health
}

/// How a report is cut: by the hour or by the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    /// The longest range, in days, a report of this granularity covers (744 hours, 366 days):
    /// one request reads a bounded number of buckets.
    pub const fn max_days(self) -> u64 {
        match self {
            Granularity::Hour => 31,
            Granularity::Day => 366,
        }
    }
}

/// Which buckets a report request asks for: whole UTC days `from` to `to` (inclusive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportRange {
    pub granularity: Granularity,
    pub from: String,
    pub to: String,
}

/// How many days a report covers when `from` is not given (ending `to`, today by default).
pub const DEFAULT_DAYS: u64 = 7;

const DAY: u64 = 86_400;

fn day_start(day: &str) -> Option<u64> {
    let valid = day.len() == 10 && day.as_bytes().iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    let at = crate::platform::time::parse(&format!("{day}T00:00:00Z")).filter(|_| valid)?;
    // `parse` accepts 2026-02-30 as March 2nd: the day must be itself.
    let seconds = crate::platform::time::epoch_seconds(at);
    (day_of(seconds) == day).then_some(seconds)
}

fn day_of(epoch_seconds: u64) -> String {
    crate::platform::time::format(std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_seconds))[..10].to_string()
}

impl ReportRange {
    /// The range a request's `granularity`, `from` and `to` ask for (`today`: the UTC date now),
    /// or why not, named by the parameter.
    pub fn parse(granularity: Option<&str>, from: Option<&str>, to: Option<&str>, today: &str) -> Result<ReportRange, crate::Refusal> {
        // A query that cannot be answered as asked: 400, naming the parameter.
        let invalid = |name: &str, message: String| crate::Refusal::Malformed(format!("{name}: {message}"));
        let granularity = match granularity {
            None | Some("day") => Granularity::Day,
            Some("hour") => Granularity::Hour,
            Some(_) => return Err(invalid("granularity", "must be hour or day".into())),
        };
        let date = |name: &str, value: &str| day_start(value).ok_or_else(|| invalid(name, "must be a date, YYYY-MM-DD".into()));
        let end = match to {
            Some(to) => date("to", to)?,
            None => day_start(today).ok_or_else(|| invalid("to", "today is not a date".into()))?,
        };
        let start = match from {
            Some(from) => date("from", from)?,
            None => end.saturating_sub((DEFAULT_DAYS.min(granularity.max_days()) - 1) * DAY),
        };
        if start > end {
            return Err(invalid("from", "must not be after to".into()));
        }
        let days = (end - start) / DAY + 1;
        if days > granularity.max_days() {
            return Err(invalid("from", format!("{} report covers at most {} days; this range has {days}", granularity.name(), granularity.max_days())));
        }
        Ok(ReportRange { granularity, from: day_of(start), to: day_of(end) })
    }

    /// Every bucket of the range, in order.
    pub fn buckets(&self) -> Vec<Bucket> {
        let (Some(start), Some(end)) = (day_start(&self.from), day_start(&self.to)) else { return vec![] };
        let mut buckets = vec![];
        let mut day = start;
        while day <= end {
            let name = day_of(day);
            match self.granularity {
                Granularity::Day => buckets.push(Bucket::Day(name)),
                Granularity::Hour => buckets.extend((0..24).map(|hour| Bucket::Hour(format!("{name}T{hour:02}")))),
            }
            day += DAY;
        }
        buckets
    }

    /// The first and last bucket of the range.
    pub fn bounds(&self) -> (Bucket, Bucket) {
        match self.granularity {
            Granularity::Day => (Bucket::Day(self.from.clone()), Bucket::Day(self.to.clone())),
            Granularity::Hour => (Bucket::Hour(format!("{}T00", self.from)), Bucket::Hour(format!("{}T23", self.to))),
        }
    }
}

impl Granularity {
    fn name(self) -> &'static str {
        match self {
            Granularity::Hour => "an hourly",
            Granularity::Day => "a daily",
        }
    }
}

impl Bucket {
    /// When the bucket starts, as a timestamp.
    pub fn start(&self) -> String {
        match self {
            Bucket::Hour(hour) => format!("{hour}:00:00Z"),
            Bucket::Day(day) => format!("{day}T00:00:00Z"),
        }
    }
}

/// One bucket of a report as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    /// When the bucket starts (UTC); it lasts an hour or a day.
    pub start: String,
    pub submitted: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub delivered: u64,
    pub buyer_rejected: u64,
    pub buyer_rejected_by_reason: BTreeMap<String, u64>,
    pub failed: u64,
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Buyer steps not attempted (delivery not set up, a budget used up).
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Delivered out of the buyer steps that settled (null: none did).
    pub success_rate: Option<f64>,
    /// The bin bound the median processing time is under, in ms (null: nothing settled, or
    /// beyond the last bound; `processing_histogram` has the counts).
    pub processing_p50_ms: Option<u64>,
    pub processing_p95_ms: Option<u64>,
    /// Settled steps by processing time: `le_ms` the bin's upper bound (null: beyond the last).
    pub processing_histogram: Vec<HistogramBin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistogramBin {
    pub le_ms: Option<u64>,
    pub count: u64,
}

impl ReportRow {
    pub fn new(start: String, figures: &Figures) -> ReportRow {
        let sum = |reasons: &BTreeMap<String, u64>| reasons.values().sum();
        ReportRow {
            start,
            submitted: figures.submitted,
            accepted: figures.accepted,
            rejected: sum(&figures.rejected_by_reason),
            rejected_by_reason: figures.rejected_by_reason.clone(),
            delivered: figures.delivered,
            buyer_rejected: sum(&figures.buyer_rejected_by_reason),
            buyer_rejected_by_reason: figures.buyer_rejected_by_reason.clone(),
            failed: sum(&figures.failed_by_reason),
            failed_by_reason: figures.failed_by_reason.clone(),
            skipped: sum(&figures.skipped_by_reason),
            skipped_by_reason: figures.skipped_by_reason.clone(),
            success_rate: figures.success_rate(),
            processing_p50_ms: figures.processing_quantile_ms(0.5),
            processing_p95_ms: figures.processing_quantile_ms(0.95),
            processing_histogram: figures.processing_bins.iter().enumerate().map(|(i, count)| HistogramBin { le_ms: PROCESSING_BINS_MS.get(i).copied(), count: *count }).collect(),
        }
    }
}

/// A report: every bucket of the range (empty ones too, so a chart has its gaps) and the whole
/// range's sum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub granularity: Granularity,
    pub from: String,
    pub to: String,
    pub total: ReportRow,
    pub buckets: Vec<ReportRow>,
}

impl Report {
    /// The report of `range` from the stored buckets (`stored`: those with anything in them).
    pub fn new(range: &ReportRange, stored: &BTreeMap<Bucket, Figures>) -> Report {
        let mut total = Figures::default();
        let buckets = range
            .buckets()
            .into_iter()
            .map(|bucket| {
                let figures = stored.get(&bucket).cloned().unwrap_or_default();
                total.add(&figures);
                ReportRow::new(bucket.start(), &figures)
            })
            .collect();
        Report { granularity: range.granularity, from: range.from.clone(), to: range.to.clone(), total: ReportRow::new(range.bounds().0.start(), &total), buckets }
    }

    /// The buckets as CSV (RFC 4180), one line each after the header; reasons as
    /// `reason: count` joined by `; `.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("start,submitted,accepted,rejected,delivered,buyer_rejected,failed,skipped,success_rate,processing_p50_ms,processing_p95_ms,rejection_reasons,buyer_rejection_reasons,failure_reasons,skip_reasons\r\n");
        let reasons = |map: &BTreeMap<String, u64>| csv_field(&map.iter().map(|(reason, n)| format!("{reason}: {n}")).collect::<Vec<_>>().join("; "));
        let optional = |value: Option<String>| value.unwrap_or_default();
        for row in &self.buckets {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
                row.start,
                row.submitted,
                row.accepted,
                row.rejected,
                row.delivered,
                row.buyer_rejected,
                row.failed,
                row.skipped,
                optional(row.success_rate.map(|r| format!("{r:.4}"))),
                optional(row.processing_p50_ms.map(|v| v.to_string())),
                optional(row.processing_p95_ms.map(|v| v.to_string())),
                reasons(&row.rejected_by_reason),
                reasons(&row.buyer_rejected_by_reason),
                reasons(&row.failed_by_reason),
                reasons(&row.skipped_by_reason),
            ));
        }
        csv
    }
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet does not run a reason (text partners chose) as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\r', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::lead::tests::*;

    fn settle(lead: &Lead, outcome: StepOutcome, delivered: bool, at: &str, reason: Option<&str>) -> Lead {
        let mut after = lead.clone();
        let step = &mut after.steps[0];
        step.outcome = outcome;
        step.delivered_lead_id = delivered.then(Id::generate);
        step.connection_id = Some(Id::generate());
        step.reason = reason.map(str::to_string);
        step.at = Some(Timestamp::from(at));
        after
    }

    fn new_lead(created_at: &str) -> Lead {
        let mut lead = submit(&flow(vec![buyer_step(Some(&Id::generate()))]), fields(&[("email", "a@b.co")]), false, 0);
        lead.created_at = Timestamp::from(created_at);
        lead
    }

    #[test]
    fn a_new_lead_is_one_submission_and_a_step_leaving_pending_one_settlement() {
        let lead = new_lead("2026-12-05T10:00:00Z");
        let events = report_events(None, &lead);
        assert!(matches!(events.as_slice(), [ReportEvent::Submitted { accepted: true, .. }]), "{events:?}");
        let delivered = settle(&lead, StepOutcome::Success, true, "2026-12-05T10:00:03Z", None);
        let events = report_events(Some(&lead), &delivered);
        assert!(matches!(events.as_slice(), [ReportEvent::Settled { figure: Figure::Delivered, processing_ms: 3_000, .. }]), "{events:?}");
        // The same change delivered again by the stream adds nothing new: the step was not pending before.
        assert!(report_events(Some(&delivered), &delivered).is_empty());
    }

    #[test]
    fn a_batch_makes_one_sum_per_report_and_bucket() {
        let lead = new_lead("2026-12-05T10:59:59Z");
        let mut events = report_events(None, &lead);
        events.extend(report_events(Some(&lead), &settle(&lead, StepOutcome::Success, true, "2026-12-05T11:00:01Z", None)));
        let other = new_lead("2026-12-05T11:30:00Z");
        events.extend(report_events(None, &other));
        events.extend(report_events(Some(&other), &settle(&other, StepOutcome::Failure, false, "2026-12-05T11:31:00Z", Some("buyer not set up"))));
        let sums = aggregate(&events);
        let flow = Dimension::Flow { account: lead.account_id.clone(), flow: lead.flow_id.clone() };
        let day = &sums[&(flow.clone(), Bucket::Day("2026-12-05".into()))];
        assert_eq!((day.submitted, day.accepted, day.delivered), (1, 1, 1));
        assert_eq!(day.failed_by_reason, BTreeMap::new(), "the other lead is another flow's");
        let hour = &sums[&(flow, Bucket::Hour("2026-12-05T11".into()))];
        assert_eq!((hour.submitted, hour.delivered), (0, 1), "counted in the hour it happened");
        let failed = &sums[&(Dimension::Flow { account: other.account_id.clone(), flow: other.flow_id.clone() }, Bucket::Day("2026-12-05".into()))];
        assert_eq!(failed.failed_by_reason, BTreeMap::from([("buyer not set up".to_string(), 1)]));
        assert_eq!(failed.success_rate(), Some(0.0));
        // One sum per report and bucket, whatever the number of events: the first lead's
        // submission makes 3 reports × 2 buckets, its settlement an hour later 3 new hours and its
        // connection's hour and day; the second lead's 3 × 2, then only its connection's 2.
        assert_eq!(sums.len(), 6 + 5 + 6 + 2);
    }

    #[test]
    fn processing_quantiles_come_from_the_summed_bins() {
        let mut figures = Figures::default();
        for ms in [50, 80, 300, 700, 900, 1_500, 4_000, 20_000, 40_000, 400_000] {
            figures.settled(Figure::Delivered, None, ms);
        }
        assert_eq!(figures.processing_quantile_ms(0.5), Some(1_000));
        assert_eq!(figures.processing_quantile_ms(0.95), None, "beyond the last bound");
        let mut sum = Figures::default();
        sum.add(&figures);
        sum.add(&figures);
        assert_eq!((sum.delivered, sum.processing_quantile_ms(0.5)), (20, Some(1_000)));
        assert_eq!(Figures::default().processing_quantile_ms(0.5), None);
    }

    #[test]
    fn a_range_is_whole_days_bounded_by_its_granularity() {
        let range = ReportRange::parse(Some("hour"), Some("2026-12-04"), Some("2026-12-05"), "2026-12-05").unwrap();
        let buckets = range.buckets();
        assert_eq!(buckets.len(), 48);
        assert_eq!((buckets[0].start(), buckets[47].start()), ("2026-12-04T00:00:00Z".to_string(), "2026-12-05T23:00:00Z".to_string()));
        let default = ReportRange::parse(None, None, None, "2026-12-05").unwrap();
        assert_eq!((default.granularity, default.from.as_str(), default.to.as_str()), (Granularity::Day, "2026-11-29", "2026-12-05"));
        assert_eq!(ReportRange::parse(Some("day"), Some("2025-12-05"), Some("2026-12-05"), "x").unwrap().buckets().len(), 366);
        for (granularity, from, to, field) in [
            (Some("week"), None, None, "granularity"),
            (None, Some("2026-02-30"), None, "from"),
            (None, Some("05/12/2026"), None, "from"),
            (None, None, Some("2026-12-05T10"), "to"),
            (None, Some("2026-12-06"), Some("2026-12-05"), "from"),
            (Some("hour"), Some("2026-11-01"), Some("2026-12-05"), "from"),
            (Some("day"), Some("2025-01-01"), Some("2026-12-05"), "from"),
        ] {
            let refusal = ReportRange::parse(granularity, from, to, "2026-12-05").expect_err(field);
            assert!(format!("{refusal:?}").contains(field), "{refusal:?}");
        }
    }

    #[test]
    fn a_report_has_every_bucket_and_their_sum_and_its_csv_is_safe_to_open() {
        let range = ReportRange::parse(Some("day"), Some("2026-12-03"), Some("2026-12-05"), "2026-12-05").unwrap();
        let mut figures = Figures { submitted: 3, accepted: 2, ..Figures::default() };
        figures.rejected_by_reason.insert("=HYPERLINK(\"x\"), or not".into(), 1);
        figures.settled(Figure::Delivered, None, 700);
        figures.settled(Figure::Failed, Some("buyer not set up"), 200);
        let report = Report::new(&range, &BTreeMap::from([(Bucket::Day("2026-12-04".into()), figures)]));
        assert_eq!(report.buckets.iter().map(|b| b.submitted).collect::<Vec<_>>(), [0, 3, 0]);
        assert_eq!((report.total.submitted, report.total.rejected, report.total.failed, report.total.success_rate), (3, 1, 1, Some(0.5)));
        let csv = report.to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 5, "{csv}");
        assert_eq!(lines[2], r#"2026-12-04T00:00:00Z,3,2,1,1,0,1,0,0.5000,250,1000,"'=HYPERLINK(""x""), or not: 1",,buyer not set up: 1,"#);
    }

    #[test]
    fn a_batchs_deliveries_by_account_say_how_many_failed_and_how_fast() {
        let lead = new_lead("2026-12-05T10:00:00Z");
        let mut events = report_events(None, &lead);
        events.extend(report_events(Some(&lead), &settle(&lead, StepOutcome::Success, true, "2026-12-05T10:00:02Z", None)));
        events.extend(report_events(Some(&lead), &settle(&lead, StepOutcome::Failure, false, "2026-12-05T10:00:05Z", Some("buyer not set up"))));
        events.extend(report_events(Some(&lead), &settle(&lead, StepOutcome::Failure, true, "2026-12-05T10:00:01Z", Some("criteria"))));
        let health = delivery_health(&events);
        let account = &health[&lead.account_id];
        assert_eq!((account.settled, account.failed, &account.processing_ms), (3, 1, &vec![2_000, 5_000, 1_000]));
        assert!((account.failure_rate() - 100.0 / 3.0).abs() < 1e-9, "a buyer's rejection is not a failed delivery");
        assert_eq!(DeliveryHealth::default().failure_rate(), 0.0);
    }

    #[test]
    fn a_step_not_attempted_counts_with_its_reason_outside_the_success_rate() {
        let mut lead = new_lead("2026-12-05T10:00:00Z");
        lead.steps[0].outcome = StepOutcome::Skipped;
        lead.steps[0].reason = Some("buyer delivery to B is not set up".into());
        let events = report_events(None, &lead);
        assert!(matches!(events.as_slice(), [ReportEvent::Submitted { .. }, ReportEvent::NotAttempted { connection: None, .. }]), "{events:?}");
        let day = &aggregate(&events)[&(Dimension::Flow { account: lead.account_id.clone(), flow: lead.flow_id.clone() }, Bucket::Day("2026-12-05".into()))];
        assert_eq!(day.skipped_by_reason, BTreeMap::from([("buyer delivery to B is not set up".to_string(), 1)]));
        assert_eq!(day.success_rate(), None, "nothing was tried");
        // Found so at delivery: over its connection.
        let pending = new_lead("2026-12-05T10:00:00Z");
        let skipped = settle(&pending, StepOutcome::Skipped, false, "2026-12-05T10:00:02Z", Some("buyer delivery to B is not set up"));
        assert!(matches!(report_events(Some(&pending), &skipped).as_slice(), [ReportEvent::NotAttempted { connection: Some(_), .. }]));
    }
}
