//! Partner reporting's figures (issue 29), planned without AWS: what one change of a lead (as the
//! table's stream shows it) adds to which report, and how a batch of such changes becomes one sum
//! per report and time bucket — the writes a batch makes, however many leads it holds.
//!
//! A report is a dimension (the account, one of its flows, a source of a flow, a connection seen
//! from one side) and a bucket (an hour or a day, UTC). Processing time (submission → a buyer
//! step settled) is kept as counts in fixed histogram bins, so buckets add up exactly and any
//! range's p50/p95 come from the summed bins.

use std::collections::BTreeMap;

use crate::leads::delivery::Figure;
use crate::leads::lead::{Lead, Outcome, StepOutcome};
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Upper bounds of the processing-time bins, in milliseconds; one more bin holds the rest.
pub const PROCESSING_BINS_MS: [u64; 10] = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000];

/// What a report is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Account(Id),
    Flow { account: Id, flow: Id },
    Source { account: Id, flow: Id, source: Id },
    /// One side's view of a connection: `owner`'s copy.
    Connection { owner: Id, connection: Id },
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
    Submitted { account: Id, flow: Id, source: Id, accepted: bool, reason: Option<String>, at: Timestamp },
    /// A buyer step settled over a connection: delivered (and accepted), rejected by the buyer's
    /// flow, or failed, with its reason and how long after the submission.
    Settled { seller: Id, flow: Id, source: Id, connection: Id, figure: Figure, reason: Option<String>, processing_ms: u64, at: Timestamp },
}

/// The events of one change of a lead (`before`: none for a new lead).
pub fn report_events(before: Option<&Lead>, after: &Lead) -> Vec<ReportEvent> {
    let mut events = vec![];
    if before.is_none() {
        events.push(ReportEvent::Submitted {
            account: after.account_id.clone(),
            flow: after.flow_id.clone(),
            source: after.source.id.clone(),
            accepted: after.outcome == Outcome::Success,
            reason: after.reason.clone(),
            at: after.created_at.clone(),
        });
    }
    let was_pending = |step_id: &Id| before.is_none_or(|b| b.steps.iter().any(|s| &s.step_id == step_id && s.outcome == StepOutcome::Pending));
    for step in after.steps.iter().filter(|s| s.outcome != StepOutcome::Pending && was_pending(&s.step_id)) {
        let (Some(connection), Some(figure), Some(at)) = (step.connection_id.clone(), step.figure(), step.at.clone()) else { continue };
        events.push(ReportEvent::Settled {
            seller: after.account_id.clone(),
            flow: after.flow_id.clone(),
            source: after.source.id.clone(),
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
    /// Settled steps by processing-time bin (`PROCESSING_BINS_MS`, then the rest).
    pub processing_bins: [u64; PROCESSING_BINS_MS.len() + 1],
}

impl Figures {
    pub fn add(&mut self, other: &Figures) {
        self.submitted += other.submitted;
        self.accepted += other.accepted;
        self.delivered += other.delivered;
        for (mine, theirs) in [(&mut self.rejected_by_reason, &other.rejected_by_reason), (&mut self.buyer_rejected_by_reason, &other.buyer_rejected_by_reason), (&mut self.failed_by_reason, &other.failed_by_reason)] {
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
            ReportEvent::Submitted { account, flow, source, at, .. } => (submission_dimensions(account, flow, source), at),
            ReportEvent::Settled { seller, flow, source, connection, at, .. } => {
                let mut dimensions = submission_dimensions(seller, flow, source);
                dimensions.push(Dimension::Connection { owner: seller.clone(), connection: connection.clone() });
                (dimensions, at)
            }
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
                }
            }
        }
    }
    sums
}

fn submission_dimensions(account: &Id, flow: &Id, source: &Id) -> Vec<Dimension> {
    vec![
        Dimension::Account(account.clone()),
        Dimension::Flow { account: account.clone(), flow: flow.clone() },
        Dimension::Source { account: account.clone(), flow: flow.clone(), source: source.clone() },
    ]
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
}
