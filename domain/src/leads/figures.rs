//! A connection's delivery figures, counted off the delivery path: each buyer step a delivery
//! settles is one figure event (read from the table's stream), and a batch of events becomes one
//! write per connection side, not one per lead.

use std::collections::BTreeMap;

use crate::leads::delivery::Figure;
use crate::leads::lead::{Lead, StepOutcome};
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// One settled buyer step that counts on a connection.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureEvent {
    /// The seller: the account whose lead the step belongs to, and whose copy of the connection
    /// names the buyer.
    pub seller: Id,
    pub connection_id: Id,
    pub figure: Figure,
    pub at: Timestamp,
    /// What makes the event itself: counted once, however often the stream delivers it.
    pub lead_id: Id,
    pub step_id: Id,
}

/// The events of a lead's change: each step that went from pending to a counted outcome.
pub fn settled_figures(before: &Lead, after: &Lead) -> Vec<FigureEvent> {
    after
        .steps
        .iter()
        .filter(|step| before.steps.iter().any(|b| b.step_id == step.step_id && b.outcome == StepOutcome::Pending))
        .filter_map(|step| {
            Some(FigureEvent {
                seller: after.account_id.clone(),
                connection_id: step.connection_id.clone()?,
                figure: step.figure()?,
                at: step.at.clone()?,
                lead_id: after.id.clone(),
                step_id: step.step_id.clone(),
            })
        })
        .collect()
}

/// Counts by figure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub delivered: u64,
    pub rejected: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, figure: Figure) {
        match figure {
            Figure::Delivered => self.delivered += 1,
            Figure::Rejected => self.rejected += 1,
            Figure::Failed => self.failed += 1,
        }
    }
}

/// A batch's events for one connection (seen from the seller): the totals and the latest delivery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub total: Counts,
    pub last_at: Option<Timestamp>,
}

/// The batch's events summed per (seller, connection).
pub fn tally(events: &[FigureEvent]) -> BTreeMap<(Id, Id), Tally> {
    let mut tallies: BTreeMap<(Id, Id), Tally> = BTreeMap::new();
    for event in events {
        let tally = tallies.entry((event.seller.clone(), event.connection_id.clone())).or_default();
        tally.total.add(event.figure);
        if tally.last_at.as_ref().is_none_or(|last| *last < event.at) {
            tally.last_at = Some(event.at.clone());
        }
    }
    tallies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::lead::tests::*;

    /// A lead whose one buyer step is pending.
    fn pending_lead() -> Lead {
        let lead = submit(&flow(vec![buyer_step(Some(&Id::generate()))]), fields(&[("email", "a@b.co")]), false, 0);
        assert_eq!(lead.steps[0].outcome, StepOutcome::Pending);
        lead
    }

    fn settled(lead: &Lead, outcome: StepOutcome, delivered: bool, connection: Option<&Id>, at: &str) -> Lead {
        let mut after = lead.clone();
        let step = &mut after.steps[0];
        step.outcome = outcome;
        step.delivered_lead_id = delivered.then(Id::generate);
        step.connection_id = connection.cloned();
        step.at = Some(Timestamp::from(at));
        after
    }

    #[test]
    fn a_step_leaving_pending_is_one_event_with_its_figure() {
        let before = pending_lead();
        let connection = Id::generate();
        let cases = [
            (StepOutcome::Success, true, Some(Figure::Delivered)),
            (StepOutcome::Failure, true, Some(Figure::Rejected)),
            (StepOutcome::Failure, false, Some(Figure::Failed)),
            (StepOutcome::Error, false, Some(Figure::Failed)),
            (StepOutcome::Skipped, false, None),
        ];
        for (outcome, delivered, figure) in cases {
            let after = settled(&before, outcome, delivered, Some(&connection), "2026-12-05T10:00:00Z");
            let events = settled_figures(&before, &after);
            assert_eq!(events.iter().map(|e| e.figure).collect::<Vec<_>>(), figure.into_iter().collect::<Vec<_>>(), "{outcome:?}");
        }
        let uncounted = settled(&before, StepOutcome::Failure, false, None, "2026-12-05T10:00:00Z");
        assert!(settled_figures(&before, &uncounted).is_empty(), "a step on no connection counts nowhere");
        let again = settled(&before, StepOutcome::Success, true, Some(&connection), "2026-12-05T10:00:00Z");
        assert!(settled_figures(&again, &again).is_empty(), "an update of a settled step is no new event");
    }

    #[test]
    fn a_batch_sums_per_connection() {
        let (seller, a, b) = (Id::generate(), Id::generate(), Id::generate());
        let event = |connection: &Id, figure, at: &str| FigureEvent { seller: seller.clone(), connection_id: connection.clone(), figure, at: Timestamp::from(at), lead_id: Id::generate(), step_id: Id::generate() };
        let events = [
            event(&a, Figure::Delivered, "2026-12-05T23:59:59Z"),
            event(&a, Figure::Rejected, "2026-12-06T00:00:01Z"),
            event(&a, Figure::Delivered, "2026-12-05T10:00:00Z"),
            event(&b, Figure::Failed, "2026-12-05T11:00:00Z"),
        ];
        let tallies = tally(&events);
        let on_a = &tallies[&(seller.clone(), a)];
        assert_eq!(on_a.total, Counts { delivered: 2, rejected: 1, failed: 0 });
        assert_eq!(on_a.last_at.as_deref(), Some("2026-12-06T00:00:01Z"));
        assert_eq!(tallies[&(seller, b)].total, Counts { delivered: 0, rejected: 0, failed: 1 });
    }
}
