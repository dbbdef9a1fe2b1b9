//! Leads (seed 002): what a source submits to a flow, what the flow decides, and what each of
//! its buyer steps did with it. A lead a buyer step delivers is a lead of the buyer's flow, from
//! the seller's entity, decided by the same rules.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::onboards::buyer_setup::FLOW_ID_PROPERTY;
use crate::onboards::flow::{EntityRef, Flow, Source, Step, StepType};
use crate::partners::{Entity, Relationship};
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

pub const MAX_FIELDS: usize = 100;
pub const MAX_NAME: usize = 100;
pub const MAX_VALUE: usize = 2000;
/// A lead passes from flow to flow through buyer steps at most this many times, so that two
/// accounts delivering to each other cannot pass one lead back and forth for ever.
pub const MAX_HOPS: u8 = 3;
/// The most leads one submission may cause in other flows, every hop together: a lead delivers
/// to at most this many buyer steps, and what each delivered lead may pass on is its share of
/// what is left. Bounds one request's writes (1 + 50 leads) however partners chain their flows;
/// at least `MAX_STEPS`, so one flow's buyer steps are never cut at the first hop.
pub const DELIVERY_BUDGET: u32 = 50;

/// A lead's fields: names and their values as text.
pub type Fields = BTreeMap<String, String>;

/// What the flow decided (LeadConduit's `outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

/// What one buyer step did with the lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    /// Queued for delivery.
    Pending,
    /// Delivered, and the buyer's flow accepted it.
    Success,
    /// Not delivered (the connection was revoked, the buyer's flow does not take it) or rejected
    /// by the buyer's acceptance criteria.
    Failure,
    /// Not attempted: the step's buyer delivery is not set up, or the lead travelled too far.
    Skipped,
    /// The buyer's receiving flow is gone.
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub step_id: Id,
    pub entity: EntityRef,
    pub outcome: StepOutcome,
    pub reason: Option<String>,
    /// The buyer's flow the step delivers to (its `flow_id` mapping when the lead came in).
    pub buyer_flow_id: Option<Id>,
    /// The lead as the buyer's account holds it.
    pub delivered_lead_id: Option<Id>,
    pub at: Option<Timestamp>,
    /// The connection whose figures the settled step counts in (none: it counts nowhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<Id>,
}

/// Where a lead came from over a connection: the seller's account for a delivered lead, the
/// source's for a connected source's submission, and the connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub account_id: Id,
    pub connection_id: Id,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: Id,
    /// The flow's account: the only one that reads the lead.
    pub account_id: Id,
    pub flow_id: Id,
    pub source: Source,
    /// The account whose key submitted it (the flow's own, a connected source's, or the seller's
    /// for a delivered lead).
    pub submitted_by: Id,
    pub fields: Fields,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// One per buyer step, in the flow's order.
    pub steps: Vec<StepResult>,
    /// How many buyer steps the lead came through (0: submitted).
    pub hops: u8,
    /// How many leads each of its pending buyer steps may cause further on (its share of the
    /// submission's `DELIVERY_BUDGET`). Kept with the lead, so a delivery needs nothing else.
    #[serde(default)]
    pub onward_budget: u32,
    pub origin: Option<Origin>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the lead is deleted (leads are personal data; `LEAD_RETENTION_DAYS`).
    pub expires_at: Timestamp,
    /// Raised by each step settled, which is conditioned on it.
    pub version: u64,
}

/// What the submission response says (LeadConduit's shape): the outcome, the reason on failure,
/// the lead's id. Nothing else of the lead reaches a source.
#[derive(Debug, PartialEq, Serialize)]
pub struct Receipt {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub lead: LeadId,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct LeadId {
    pub id: Id,
}

/// The lead-delivery queue's message: a lead with buyer steps to deliver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadMessage {
    pub account_id: Id,
    pub flow_id: Id,
    pub lead_id: Id,
}

/// A lead coming into a flow from one of its sources.
pub struct Submission<'a> {
    pub flow: &'a Flow,
    pub source: &'a Source,
    pub submitted_by: Id,
    pub fields: Fields,
    /// Whether the flow's acceptance criteria apply (its account is on the paid plan).
    pub enforce_criteria: bool,
    pub hops: u8,
    /// How many leads this lead may cause in other flows (`DELIVERY_BUDGET` for a submission).
    pub budget: u32,
    pub origin: Option<Origin>,
}

fn field_error(name: &str, message: &str) -> Refusal {
    Refusal::invalid(format!("fields.{name}"), message)
}

/// The fields of a submission body: a JSON object of texts, numbers and booleans (`null` is
/// left out), or a form (`application/x-www-form-urlencoded`).
pub fn parse_fields(form: bool, body: &[u8]) -> Result<Fields, Refusal> {
    let pairs: Vec<(String, String)> = if form {
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    } else {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Refusal::NotJson("a JSON object of lead fields is required".into()));
        }
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| Refusal::NotJson(e.to_string()))?;
        let serde_json::Value::Object(object) = value else {
            return Err(Refusal::invalid("body", "must be a JSON object of lead fields"));
        };
        let mut pairs = vec![];
        for (name, value) in object {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(field_error(&name, "must be a text, a number or a boolean")),
            };
            pairs.push((name, text));
        }
        pairs
    };
    if pairs.len() > MAX_FIELDS {
        return Err(Refusal::invalid("body", format!("at most {MAX_FIELDS} fields, got {}", pairs.len())));
    }
    let mut fields = Fields::new();
    for (name, value) in pairs {
        crate::platform::validate::text("body", &name, MAX_NAME).map_err(|_| Refusal::invalid("body", format!("field names are 1 to {MAX_NAME} characters without control characters")))?;
        if value.chars().count() > MAX_VALUE {
            return Err(field_error(&name, &format!("must be at most {MAX_VALUE} characters")));
        }
        // A form may name a field twice; the last value counts, as in a JSON object.
        fields.insert(name, value);
    }
    Ok(fields)
}

/// Whether `caller` may submit leads as a source of `owner`'s flow whose entity is `entity`: the
/// owner as any of its sources; another account only as the source that stands for it, while
/// their connection is active and it sends leads to the owner (not only buys from it).
pub fn may_submit(caller: &Id, owner: &Id, entity: Option<&Entity>) -> bool {
    caller == owner
        || entity.is_some_and(|e| crate::onboards::flow::is_connected(e) && e.connected_account_id.as_ref() == Some(caller) && e.connected != Some(Relationship::Buyer))
}

/// The buyer flow a recipient step delivers to: its `flow_id` mapping, set by the buyer setup.
pub fn mapped_buyer_flow(step: &Step) -> Option<Id> {
    step.integration.as_ref()?.mappings.iter().find(|m| m.property == FLOW_ID_PROPERTY).and_then(|m| Id::parse(&m.value))
}

impl Lead {
    /// The lead a flow makes of a submission: accepted or rejected (disabled flow, acceptance
    /// criteria), and for an accepted one, each buyer step pending or skipped with its reason.
    pub fn receive(submission: Submission, account_id: Id, id: Id, now: &Timestamp, expires_at: Timestamp) -> Lead {
        let Submission { flow, source, submitted_by, mut fields, enforce_criteria, hops, budget, origin } = submission;
        // A flow that lists its fields keeps only those: leads are personal data.
        if !flow.fields.is_empty() {
            fields.retain(|name, _| flow.fields.contains(name));
        }
        let verdict = if !flow.enabled {
            Err(format!("flow {} is disabled", flow.name))
        } else {
            match (&flow.acceptance_criteria, enforce_criteria) {
                (Some(criteria), true) => criteria.check(&fields),
                _ => Ok(()),
            }
        };
        let (outcome, reason, steps) = match verdict {
            Err(reason) => (Outcome::Failure, Some(reason), vec![]),
            Ok(()) => (Outcome::Success, None, buyer_steps(flow, hops, budget, now)),
        };
        let pending = steps.iter().filter(|s| s.outcome == StepOutcome::Pending).count() as u32;
        let onward_budget = if pending == 0 { 0 } else { (budget - pending) / pending };
        Lead {
            id,
            account_id,
            flow_id: flow.id.clone(),
            source: source.clone(),
            submitted_by,
            fields,
            outcome,
            reason,
            steps,
            hops,
            onward_budget,
            origin,
            created_at: now.clone(),
            updated_at: now.clone(),
            expires_at,
            version: 1,
        }
    }

    pub fn receipt(&self) -> Receipt {
        Receipt { outcome: self.outcome, reason: self.reason.clone(), lead: LeadId { id: self.id.clone() } }
    }

    /// The steps still to deliver, by their index in `steps`.
    pub fn pending_steps(&self) -> impl Iterator<Item = (usize, &StepResult)> {
        self.steps.iter().enumerate().filter(|(_, s)| s.outcome == StepOutcome::Pending)
    }
}

/// One result per buyer step, in the flow's order: pending while the lead may travel and the
/// budget lasts, each buyer once (a second step to the same entity is skipped), else skipped
/// with the reason.
fn buyer_steps(flow: &Flow, hops: u8, budget: u32, now: &Timestamp) -> Vec<StepResult> {
    let mut pending = 0;
    let mut seen = HashSet::new();
    let mut results = vec![];
    for step in flow.steps.iter().filter(|s| s.kind == StepType::Recipient) {
        let Some(entity) = step.entity.clone() else { continue };
        let buyer_flow_id = mapped_buyer_flow(step);
        let skipped = if hops >= MAX_HOPS {
            Some(format!("the lead already came through {MAX_HOPS} buyer steps"))
        } else if buyer_flow_id.is_none() {
            Some(format!("buyer delivery to {} is not set up", entity.name))
        } else if !seen.insert(entity.id.clone()) {
            Some(format!("an earlier step already delivers to {}", entity.name))
        } else if pending >= budget {
            Some(format!("the submission's delivery budget ({DELIVERY_BUDGET} leads in other flows) is used up"))
        } else {
            pending += 1;
            None
        };
        let (outcome, at) = if skipped.is_some() { (StepOutcome::Skipped, Some(now.clone())) } else { (StepOutcome::Pending, None) };
        results.push(StepResult { step_id: step.id.clone(), entity, outcome, reason: skipped, buyer_flow_id, delivered_lead_id: None, at, connection_id: None });
    }
    results
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::partners::Connection;
    use crate::onboards::criteria::AcceptanceCriteria;
    use crate::onboards::flow::{Integration, Mapping};
    use crate::partners::AccountRef;

    pub(crate) const NOW: &str = "2026-12-02T10:00:00Z";

    pub(crate) fn entity_ref(name: &str) -> EntityRef {
        EntityRef { id: Id::generate(), name: name.into() }
    }

    pub(crate) fn buyer_step(mapped: Option<&Id>) -> Step {
        let mappings = mapped.map(|id| vec![Mapping { property: FLOW_ID_PROPERTY.into(), value: id.to_string() }]).unwrap_or_default();
        Step { id: Id::generate(), kind: StepType::Recipient, entity: Some(entity_ref("Buyer Co")), integration: Some(Integration { module_id: "leadconduit.buyer".into(), mappings }) }
    }

    pub(crate) fn flow(steps: Vec<Step>) -> Flow {
        Flow {
            id: Id::generate(),
            name: "Auto leads".into(),
            enabled: true,
            fields: vec![],
            sources: vec![Source { id: Id::generate(), entity: entity_ref("Vendor") }],
            steps,
            acceptance_criteria: None,
            created_at: NOW.into(),
            updated_at: NOW.into(),
            version: 1,
        }
    }

    pub(crate) fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    pub(crate) fn submit(flow: &Flow, fields: Fields, enforce: bool, hops: u8) -> Lead {
        let submission = Submission { flow, source: &flow.sources[0], submitted_by: Id::generate(), fields, enforce_criteria: enforce, hops, budget: DELIVERY_BUDGET, origin: None };
        Lead::receive(submission, Id::generate(), Id::generate(), &NOW.into(), "2027-03-02T10:00:00Z".into())
    }

    #[test]
    fn json_and_form_bodies_give_the_same_fields() {
        let json = parse_fields(false, br#"{"email": "a@b.co", "age": 42, "opt_in": true, "note": null}"#).unwrap();
        assert_eq!(json, fields(&[("email", "a@b.co"), ("age", "42"), ("opt_in", "true")]));
        let form = parse_fields(true, b"email=a%40b.co&age=42&opt_in=true").unwrap();
        assert_eq!(form, json.into_iter().collect());
    }

    #[test]
    fn malformed_bodies_are_the_callers_error() {
        let status = |form: bool, body: &[u8]| match parse_fields(form, body).unwrap_err() {
            Refusal::NotJson(_) => "not JSON",
            Refusal::Invalid { .. } => "invalid",
            other => panic!("{other:?}"),
        };
        assert_eq!(status(false, b""), "not JSON");
        assert_eq!(status(false, b"{not json"), "not JSON");
        assert_eq!(status(false, b"[1, 2]"), "invalid");
        assert_eq!(status(false, br#"{"address": {"city": "x"}}"#), "invalid");
        assert_eq!(status(false, br#"{"": "x"}"#), "invalid");
        assert_eq!(status(false, br#"{"na\r\nme": "x"}"#), "invalid", "a field name is one line");
        assert_eq!(status(true, b"na%0Ame=x"), "invalid");
        assert_eq!(status(false, format!(r#"{{"x": "{}"}}"#, "a".repeat(MAX_VALUE + 1)).as_bytes()), "invalid");
        let many: String = (0..=MAX_FIELDS).map(|i| format!("f{i}=v&")).collect();
        assert_eq!(status(true, many.as_bytes()), "invalid");
    }

    #[test]
    fn an_accepted_lead_queues_mapped_buyer_steps_and_skips_the_rest() {
        let buyer_flow = Id::generate();
        let f = flow(vec![buyer_step(Some(&buyer_flow)), Step { id: Id::generate(), kind: StepType::Filter, entity: None, integration: None }, buyer_step(None)]);
        let lead = submit(&f, fields(&[("email", "a@b.co")]), true, 0);
        assert_eq!((lead.outcome, lead.reason.as_deref()), (Outcome::Success, None));
        assert_eq!(lead.steps.len(), 2, "one result per buyer step");
        assert_eq!((lead.steps[0].outcome, lead.steps[0].buyer_flow_id.as_ref()), (StepOutcome::Pending, Some(&buyer_flow)));
        assert_eq!(lead.steps[1].outcome, StepOutcome::Skipped);
        assert_eq!(lead.steps[1].reason.as_deref(), Some("buyer delivery to Buyer Co is not set up"));
        assert_eq!(lead.pending_steps().map(|(i, _)| i).collect::<Vec<_>>(), vec![0]);
        assert_eq!(serde_json::to_value(lead.receipt()).unwrap(), serde_json::json!({ "outcome": "success", "lead": { "id": lead.id } }));
    }

    #[test]
    fn criteria_apply_on_the_paid_plan_only() {
        let mut f = flow(vec![buyer_step(Some(&Id::generate()))]);
        f.acceptance_criteria = Some(AcceptanceCriteria { required: vec!["phone_1".into()], rules: vec![] });
        let rejected = submit(&f, fields(&[("email", "a@b.co")]), true, 0);
        assert_eq!((rejected.outcome, rejected.reason.as_deref()), (Outcome::Failure, Some("phone_1 is required")));
        assert!(rejected.steps.is_empty(), "a rejected lead goes nowhere");
        assert_eq!(serde_json::to_value(rejected.receipt()).unwrap()["reason"], "phone_1 is required");
        assert_eq!(submit(&f, fields(&[("email", "a@b.co")]), false, 0).outcome, Outcome::Success, "free: every lead is received");
    }

    #[test]
    fn a_disabled_flow_rejects_and_listed_fields_are_kept_alone() {
        let mut f = flow(vec![]);
        f.fields = vec!["email".into()];
        let lead = submit(&f, fields(&[("email", "a@b.co"), ("ssn", "123")]), false, 0);
        assert_eq!(lead.fields, fields(&[("email", "a@b.co")]));
        f.enabled = false;
        assert_eq!(submit(&f, fields(&[]), false, 0).reason.as_deref(), Some("flow Auto leads is disabled"));
    }

    #[test]
    fn a_lead_travels_a_bounded_number_of_buyer_steps() {
        let f = flow(vec![buyer_step(Some(&Id::generate()))]);
        assert_eq!(submit(&f, fields(&[]), false, MAX_HOPS - 1).steps[0].outcome, StepOutcome::Pending);
        assert_eq!(submit(&f, fields(&[]), false, MAX_HOPS).steps[0].outcome, StepOutcome::Skipped);
    }

    pub(crate) fn connected(entity: &EntityRef, connection: &Connection) -> Entity {
        let mut e = Entity::new(entity.id.clone(), &entity.name, &NOW.into());
        e.connected = Some(Relationship::Buyer);
        e.connected_account_id = Some(connection.connected_account.id.clone());
        e.connection_id = Some(connection.id.clone());
        e
    }

    pub(crate) fn connection(configured: bool) -> Connection {
        Connection { buyer_delivery_configured: configured, ..crate::partners::test_connection(Relationship::Buyer, "Buyer Co") }
    }

    #[test]
    fn only_the_owner_and_a_connected_seller_may_submit() {
        let (owner, partner, stranger) = (Id::generate(), Id::generate(), Id::generate());
        let c = Connection { connected_account: AccountRef { id: partner.clone(), name: "P".into() }, ..connection(false) };
        let seller = Entity { connected: Some(Relationship::Seller), ..connected(&entity_ref("P"), &c) };
        assert!(may_submit(&owner, &owner, None), "the owner, as any source");
        assert!(may_submit(&partner, &owner, Some(&seller)));
        assert!(may_submit(&partner, &owner, Some(&Entity { connected: Some(Relationship::Both), ..seller.clone() })));
        assert!(!may_submit(&stranger, &owner, Some(&seller)), "another account's source");
        assert!(!may_submit(&partner, &owner, Some(&Entity { connected: Some(Relationship::Buyer), ..seller.clone() })), "a buyer does not send");
        assert!(!may_submit(&partner, &owner, Some(&Entity { connected: None, connection_id: None, ..seller.clone() })), "revoked");
        assert!(!may_submit(&partner, &owner, None));
    }
}
