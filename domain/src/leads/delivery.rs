//! Delivering one buyer step of a lead: what it comes to (the buyer's flow receives the lead,
//! or the step is undeliverable and says why), how it settles the seller's step, and what it
//! counts as on the connection.

use crate::leads::lead::{Lead, Origin, Outcome, StepOutcome, StepResult, Submission};
use crate::onboards::flow::{EntityRef, Flow};
use crate::partners::{Connection, ConnectionStatus, Entity};
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// What a delivery counts as in the connection's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    Delivered,
    Rejected,
    Failed,
}

/// What delivering one buyer step comes to.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// The lead as the buyer's flow received it (accepted or rejected).
    Deliver(Box<Lead>),
    /// Not delivered, with the step's outcome and why.
    Undeliverable { outcome: StepOutcome, reason: String },
}

/// What the seller's connection to the buyer and the buyer's side say, read by the store for
/// one buyer step.
pub struct BuyerSide<'a> {
    /// The seller's entity the step names.
    pub entity: Option<&'a Entity>,
    /// The seller's copy of the connection with the buyer.
    pub connection: Option<&'a Connection>,
    pub flow: Option<&'a Flow>,
    /// Whether the buyer's account is on the paid plan (its acceptance criteria apply).
    pub paid: bool,
}

/// Delivering step `step` of the seller's `lead` into the buyer's flow.
pub fn plan_delivery(lead: &Lead, step: &StepResult, buyer: BuyerSide, delivered_id: Id, now: &Timestamp) -> Delivery {
    let undeliverable = |outcome, reason: String| Delivery::Undeliverable { outcome, reason };
    let revoked = || undeliverable(StepOutcome::Failure, format!("the connection with {} was revoked", step.entity.name));
    let Some(connection) = buyer.connection.filter(|_| buyer.entity.is_some_and(crate::onboards::flow::is_connected)) else {
        return revoked();
    };
    if connection.status != ConnectionStatus::Active {
        return revoked();
    }
    if !connection.buyer_delivery_configured {
        return undeliverable(StepOutcome::Skipped, format!("buyer delivery to {} is not set up", step.entity.name));
    }
    let Some(flow) = buyer.flow else {
        return undeliverable(StepOutcome::Error, format!("the flow {} of {} no longer exists", step.buyer_flow_id.as_ref().map(Id::to_string).unwrap_or_default(), step.entity.name));
    };
    // The buyer setup made the buyer's entity for the seller a source of this flow.
    let Some(source) = flow.sources.iter().find(|s| s.entity.id == connection.partner_entity_id) else {
        return undeliverable(StepOutcome::Failure, format!("{}'s flow {} does not take leads from this account", step.entity.name, flow.name));
    };
    let submission = Submission {
        flow,
        source,
        submitted_by: lead.account_id.clone(),
        fields: lead.fields.clone(),
        enforce_criteria: buyer.paid,
        hops: lead.hops + 1,
        budget: lead.onward_budget,
        origin: Some(Origin { account_id: lead.account_id.clone(), connection_id: connection.id.clone() }),
    };
    Delivery::Deliver(Box::new(Lead::receive(submission, connection.connected_account.id.clone(), delivered_id, now, lead.expires_at.clone())))
}

impl StepResult {
    /// What the settled step counts as on its connection (`Delivery::figure`, read back from
    /// the step as stored).
    pub fn figure(&self) -> Option<Figure> {
        self.connection_id.as_ref()?;
        match self.outcome {
            StepOutcome::Success => Some(Figure::Delivered),
            StepOutcome::Failure | StepOutcome::Error if self.delivered_lead_id.is_some() => Some(Figure::Rejected),
            StepOutcome::Failure | StepOutcome::Error => Some(Figure::Failed),
            StepOutcome::Pending | StepOutcome::Skipped => None,
        }
    }

    /// The step naming its entity as the entity is named now (an invited address gives way to
    /// the account's name on acceptance; the seller may rename it).
    pub fn named_as(&self, entity: Option<&Entity>) -> StepResult {
        match entity {
            Some(e) => StepResult { entity: EntityRef { id: self.entity.id.clone(), name: e.name.clone() }, ..self.clone() },
            None => self.clone(),
        }
    }
}

impl Delivery {
    /// The seller's step as this delivery settles it; a step that counts names the connection it
    /// counts on (`connection`, the one the delivery went over or was refused by).
    pub fn settled(&self, step: &StepResult, now: &Timestamp, connection: Option<&Id>) -> StepResult {
        let (outcome, reason, delivered_lead_id) = match self {
            Delivery::Deliver(lead) => match lead.outcome {
                Outcome::Success => (StepOutcome::Success, None, Some(lead.id.clone())),
                Outcome::Failure => (StepOutcome::Failure, Some(format!("rejected by {}: {}", step.entity.name, lead.reason.clone().unwrap_or_default())), Some(lead.id.clone())),
            },
            Delivery::Undeliverable { outcome, reason, .. } => (*outcome, Some(reason.clone()), None),
        };
        let connection_id = self.figure().and(connection).cloned();
        StepResult { outcome, reason, delivered_lead_id, at: Some(now.clone()), connection_id, ..step.clone() }
    }

    /// What the delivery counts as on the connection it went over (a skipped step counts not).
    pub fn figure(&self) -> Option<Figure> {
        match self {
            Delivery::Deliver(lead) if lead.outcome == Outcome::Success => Some(Figure::Delivered),
            Delivery::Deliver(_) => Some(Figure::Rejected),
            Delivery::Undeliverable { outcome: StepOutcome::Skipped, .. } => None,
            Delivery::Undeliverable { .. } => Some(Figure::Failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::lead::tests::*;
    use crate::leads::lead::DELIVERY_BUDGET;
    use crate::onboards::criteria::AcceptanceCriteria;
    use crate::onboards::flow::Step;

    #[test]
    fn a_delivery_is_a_submission_to_the_buyers_flow_from_the_sellers_entity() {
        let c = connection(true);
        let mut buyer_flow = flow(vec![]);
        buyer_flow.sources[0].entity.id = c.partner_entity_id.clone();
        buyer_flow.acceptance_criteria = Some(AcceptanceCriteria { required: vec!["phone_1".into()], rules: vec![] });
        let seller_flow = flow(vec![buyer_step(Some(&buyer_flow.id))]);
        let lead = submit(&seller_flow, fields(&[("email", "a@b.co")]), false, 0);
        let step = &lead.steps[0];
        let entity = connected(&step.entity, &c);
        let side = |paid| BuyerSide { entity: Some(&entity), connection: Some(&c), flow: Some(&buyer_flow), paid };

        let delivery = plan_delivery(&lead, step, side(false), Id::generate(), &NOW.into());
        let Delivery::Deliver(delivered) = &delivery else { panic!("{delivery:?}") };
        assert_eq!((&delivered.account_id, &delivered.flow_id), (&c.connected_account.id, &buyer_flow.id));
        assert_eq!((delivered.hops, &delivered.submitted_by, &delivered.source.entity.id), (1, &lead.account_id, &c.partner_entity_id));
        assert_eq!(delivered.fields, lead.fields);
        assert_eq!(delivered.origin, Some(Origin { account_id: lead.account_id.clone(), connection_id: c.id.clone() }));
        assert_eq!((delivered.expires_at.as_str(), delivery.figure()), (lead.expires_at.as_str(), Some(Figure::Delivered)));
        let settled = delivery.settled(step, &NOW.into(), Some(&c.id));
        assert_eq!((settled.outcome, settled.delivered_lead_id.as_ref()), (StepOutcome::Success, Some(&delivered.id)));
        assert_eq!((settled.connection_id.as_ref(), settled.figure()), (Some(&c.id), Some(Figure::Delivered)), "the stored step reads back its figure");

        let rejected = plan_delivery(&lead, step, side(true), Id::generate(), &NOW.into());
        assert_eq!(rejected.figure(), Some(Figure::Rejected));
        let settled = rejected.settled(step, &NOW.into(), Some(&c.id));
        assert_eq!((settled.reason.as_deref(), settled.figure()), (Some("rejected by Buyer Co: phone_1 is required"), Some(Figure::Rejected)));
    }

    #[test]
    fn one_submission_causes_at_most_its_budget_however_flows_chain() {
        // The worst case: every flow has `k` buyer steps, each to another buyer set up to receive,
        // whose flow is the same shape; every lead is accepted. Each delivery is planned as the
        // lead-deliver function plans it.
        let c = connection(true);
        for k in [1usize, 2, 8, 40] {
            let mut f = flow((0..k).map(|_| buyer_step(Some(&Id::generate()))).collect());
            f.sources[0].entity.id = c.partner_entity_id.clone();
            let (mut caused, mut leads) = (0, vec![submit(&f, fields(&[("email", "a@b.co")]), false, 0)]);
            while let Some(lead) = leads.pop() {
                for (_, step) in lead.pending_steps() {
                    let entity = connected(&step.entity, &c);
                    let buyer = BuyerSide { entity: Some(&entity), connection: Some(&c), flow: Some(&f), paid: false };
                    let Delivery::Deliver(delivered) = plan_delivery(&lead, step, buyer, Id::generate(), &NOW.into()) else { panic!("deliverable") };
                    caused += 1;
                    leads.push(*delivered);
                }
            }
            let unbounded = k + k * k + k * k * k;
            println!("k = {k}: {caused} leads caused (without a budget: {unbounded})");
            assert!(caused <= DELIVERY_BUDGET as usize, "k = {k}: {caused}");
            assert!(caused >= k.min(DELIVERY_BUDGET as usize), "the first hop reaches every buyer step: k = {k}, {caused}");
        }
    }

    #[test]
    fn each_buyer_gets_a_lead_once_and_the_budget_skips_the_rest() {
        let buyer = buyer_step(Some(&Id::generate()));
        let again = Step { id: Id::generate(), ..buyer.clone() };
        let lead = submit(&flow(vec![buyer, again]), fields(&[]), false, 0);
        assert_eq!((lead.steps[0].outcome, lead.steps[1].outcome), (StepOutcome::Pending, StepOutcome::Skipped));
        assert_eq!(lead.steps[1].reason.as_deref(), Some("an earlier step already delivers to Buyer Co"));

        let f = flow((0..3).map(|_| buyer_step(Some(&Id::generate()))).collect());
        let submission = Submission { flow: &f, source: &f.sources[0], submitted_by: Id::generate(), fields: fields(&[]), enforce_criteria: false, hops: 1, budget: 2, origin: None };
        let lead = Lead::receive(submission, Id::generate(), Id::generate(), &NOW.into(), NOW.into());
        assert_eq!(lead.steps.iter().map(|s| s.outcome).collect::<Vec<_>>(), [StepOutcome::Pending, StepOutcome::Pending, StepOutcome::Skipped]);
        assert!(lead.steps[2].reason.as_deref().is_some_and(|r| r.contains("delivery budget")), "{:?}", lead.steps[2]);
        assert_eq!(lead.onward_budget, 0, "two pending steps use a budget of two");
    }

    #[test]
    fn a_step_names_its_buyer_as_the_entity_is_named_now() {
        let c = connection(true);
        let lead = submit(&flow(vec![buyer_step(Some(&Id::generate()))]), fields(&[]), false, 0);
        let mut entity = connected(&lead.steps[0].entity, &c);
        entity.name = "Paid Buyer Inc".into();
        let step = lead.steps[0].named_as(Some(&entity));
        assert_eq!((&step.entity.id, step.entity.name.as_str()), (&lead.steps[0].entity.id, "Paid Buyer Inc"));
        let buyer_flow = flow(vec![]);
        let delivery = plan_delivery(&lead, &step, BuyerSide { entity: Some(&entity), connection: Some(&c), flow: Some(&buyer_flow), paid: false }, Id::generate(), &NOW.into());
        assert_eq!(delivery.settled(&step, &NOW.into(), Some(&c.id)).reason.as_deref(), Some("Paid Buyer Inc's flow Auto leads does not take leads from this account"));
    }

    #[test]
    fn undeliverable_steps_say_why() {
        let c = connection(true);
        let buyer_flow = flow(vec![]);
        let lead = submit(&flow(vec![buyer_step(Some(&buyer_flow.id))]), fields(&[]), false, 0);
        let step = &lead.steps[0];
        let entity = connected(&step.entity, &c);
        let mut disconnected = entity.clone();
        disconnected.connected = None;
        let revoked = Connection { status: ConnectionStatus::Revoked, ..c.clone() };
        let unconfigured = connection(false);
        let cases: Vec<(BuyerSide, StepOutcome, &str, Option<Figure>)> = vec![
            (BuyerSide { entity: Some(&disconnected), connection: Some(&c), flow: Some(&buyer_flow), paid: false }, StepOutcome::Failure, "was revoked", Some(Figure::Failed)),
            (BuyerSide { entity: Some(&entity), connection: Some(&revoked), flow: Some(&buyer_flow), paid: false }, StepOutcome::Failure, "was revoked", Some(Figure::Failed)),
            (BuyerSide { entity: None, connection: None, flow: None, paid: false }, StepOutcome::Failure, "was revoked", Some(Figure::Failed)),
            (BuyerSide { entity: Some(&entity), connection: Some(&unconfigured), flow: Some(&buyer_flow), paid: false }, StepOutcome::Skipped, "not set up", None),
            (BuyerSide { entity: Some(&entity), connection: Some(&c), flow: None, paid: false }, StepOutcome::Error, "no longer exists", Some(Figure::Failed)),
            (BuyerSide { entity: Some(&entity), connection: Some(&c), flow: Some(&buyer_flow), paid: false }, StepOutcome::Failure, "does not take leads", Some(Figure::Failed)),
        ];
        for (side, outcome, why, figure) in cases {
            let delivery = plan_delivery(&lead, step, side, Id::generate(), &NOW.into());
            let settled = delivery.settled(step, &NOW.into(), Some(&c.id));
            assert_eq!(settled.outcome, outcome, "{delivery:?}");
            assert!(settled.reason.as_deref().is_some_and(|r| r.contains(why)), "{settled:?}");
            assert_eq!(delivery.figure(), figure, "{why}");
            assert_eq!(settled.figure(), figure, "{why}: the stored step reads back the same figure");
            assert_eq!(settled.connection_id.is_some(), figure.is_some(), "{why}: only a counted step names its connection");
        }
    }
}
