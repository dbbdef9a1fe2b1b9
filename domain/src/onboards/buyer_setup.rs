//! Buyer delivery setup (seed 000's six steps), as a pure plan: given what the store read, what
//! must be written. The store commits the buyer's side (its flow, both copies of the connection,
//! the audit) in one transaction of fixed size; then each of the seller's flows delivering to the
//! buyer gets its buyer steps mapped by a patch of just those steps (`seller_flow_patch`), so
//! that buyers onboarding onto one seller flow at once do not rewrite, or wait for, each other.

use crate::onboards::flow::{EntityRef, Flow, Integration, Mapping, Source, Step, StepType};
use crate::platform::accounts::{Account, Plan};
use crate::partners::invitation::Invitation;
use crate::partners::{Connection, ConnectionStatus, Entity, Relationship};
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// What one buyer delivery setup is asked to do: the queue message and the sync request alike.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The buyer account.
    pub account_id: Id,
    pub connection_id: Id,
    pub flow_id: Option<Id>,
    pub onboard_id: Option<Id>,
    /// Who asked: the buyer's user, or `system` for the pipeline.
    pub actor: String,
}

/// The mapping that tells a seller's buyer step which of the buyer's flows receives the leads.
pub const FLOW_ID_PROPERTY: &str = "flow_id";

/// What one setup writes.
#[derive(Debug, PartialEq)]
pub struct SetupPlan {
    /// The buyer's receiving flow, with the seller's entity as a source.
    pub buyer_flow: Flow,
    /// The version the buyer flow had (`None`: a new default flow).
    pub buyer_flow_previous: Option<Flow>,
}

/// The change one seller flow needs: its buyer steps to the buyer (and its sources standing for
/// the buyer) as they must now read, each with its position, which the store's write checks
/// still holds that element.
#[derive(Debug, PartialEq)]
pub struct FlowPatch {
    pub flow_id: Id,
    pub steps: Vec<(usize, Step)>,
    pub sources: Vec<(usize, Source)>,
}

/// The connection a `POST /onboard/buyer` body names: by its id, through the invitation that
/// created it, or both if they agree.
pub fn setup_connection(given: Option<Id>, invitation: Option<&Invitation>) -> Result<Id, Refusal> {
    let resolved = invitation.map(Invitation::accepted_connection).transpose()?;
    match (given, resolved) {
        (None, None) => Err(Refusal::invalid("connection_id", "give connection_id or invitation_id")),
        (Some(given), Some(resolved)) if &given != resolved => Err(Refusal::Malformed("connection_id and invitation_id name different connections".into())),
        (Some(id), _) => Ok(id),
        (None, Some(id)) => Ok(id.clone()),
    }
}

/// Step 1, first half: the caller must be the connection's buyer (its partner sells to it).
/// Checked before anything else, so that the other side's request changes and sends nothing.
pub fn check_buyer(connection: &Connection) -> Result<(), Refusal> {
    // `relationship_type` is the partner's role as the caller sees it: the partner must sell.
    if connection.relationship_type == Relationship::Buyer {
        return Err(Refusal::NotAllowed(format!("this account is not the buyer on connection {}; only the buyer sets up delivery", connection.id)));
    }
    Ok(())
}

/// Step 1, second half: the connection must be active.
pub fn check_active(connection: &Connection) -> Result<(), Refusal> {
    if connection.status != ConnectionStatus::Active {
        return Err(Refusal::Malformed(format!("connection {} has been revoked", connection.id)));
    }
    Ok(())
}

/// Steps 3 and 4. `requested` is the buyer flow the request or onboard names (paid accounts only);
/// `seller_flows` are the seller's flows with a buyer step to `seller_entity_for_buyer`, whose
/// steps take its current name.
pub fn plan(
    buyer: &Account,
    connection: &Connection,
    buyer_entity_for_seller: &Entity,
    requested: Option<Flow>,
    now: &Timestamp,
) -> Result<SetupPlan, Refusal> {
    let seller_source = Source {
        id: Id::generate(),
        entity: EntityRef { id: buyer_entity_for_seller.id.clone(), name: buyer_entity_for_seller.name.clone() },
    };
    let (buyer_flow, buyer_flow_previous) = match requested {
        Some(_) if buyer.plan == Plan::Free => {
            return Err(Refusal::Malformed(
                "free accounts receive leads in a default flow; choosing a flow needs a paid account".into(),
            ));
        }
        Some(flow) => {
            let mut updated = flow.clone();
            if !updated.sources.iter().any(|s| s.entity.id == buyer_entity_for_seller.id) {
                updated.sources.push(seller_source);
            }
            updated.version += 1;
            updated.updated_at = now.clone();
            (updated, Some(flow))
        }
        None => (
            Flow {
                id: Id::generate(),
                name: format!("Leads from {}", connection.connected_account.name),
                enabled: true,
                fields: vec![],
                sources: vec![seller_source],
                steps: vec![],
                acceptance_criteria: None,
                created_at: now.clone(),
                updated_at: now.clone(),
                version: 1,
            },
            None,
        ),
    };
    Ok(SetupPlan { buyer_flow, buyer_flow_previous })
}

/// What a seller flow needs so that every buyer step to `entity` maps `flow_id` to
/// `buyer_flow` (once: an existing mapping is replaced, not duplicated, other mappings kept) and
/// names the entity as it is named now, in steps and sources. `None`: it reads so already (a
/// retried setup changes nothing twice).
pub fn seller_flow_patch(flow: &Flow, entity: &EntityRef, buyer_flow: &Id) -> Option<FlowPatch> {
    let sources: Vec<(usize, Source)> = flow
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.entity.id == entity.id && s.entity != *entity)
        .map(|(i, s)| (i, Source { entity: entity.clone(), ..s.clone() }))
        .collect();
    let steps: Vec<(usize, Step)> = flow
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == StepType::Recipient && s.entity.as_ref().is_some_and(|e| e.id == entity.id))
        .map(|(i, step)| {
            let mut mapped = step.clone();
            mapped.entity = Some(entity.clone());
            let integration = mapped.integration.get_or_insert_with(|| Integration { module_id: "leadconduit.buyer".into(), mappings: vec![] });
            integration.mappings.retain(|m| m.property != FLOW_ID_PROPERTY);
            integration.mappings.push(Mapping { property: FLOW_ID_PROPERTY.into(), value: buyer_flow.to_string() });
            (i, mapped)
        })
        .filter(|(i, mapped)| flow.steps[*i] != *mapped)
        .collect();
    (!steps.is_empty() || !sources.is_empty()).then(|| FlowPatch { flow_id: flow.id.clone(), steps, sources })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboards::flow::Step;

    fn account(plan: Plan) -> Account {
        Account { id: Id::generate(), name: "Buyer".into(), plan, created_at: "t".into(), updated_at: "t".into() }
    }

    fn connection(relationship: Relationship, status: ConnectionStatus) -> Connection {
        Connection { status, ..crate::partners::test_connection(relationship, "Seller Co") }
    }

    fn entity() -> Entity {
        Entity {
            id: Id::generate(),
            name: "Seller Co".into(),
            pending: false,
            connected: Some(Relationship::Seller),
            connected_account_id: Some(Id::generate()),
            connection_id: Some(Id::generate()),
            former_connection_id: None,
            invitation_id: None,
            invitation_expires_at: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        }
    }

    fn flow_with_step(entity: &Id, mappings: Vec<Mapping>) -> Flow {
        Flow {
            id: Id::generate(),
            name: "Seller flow".into(),
            enabled: true,
            fields: vec![],
            sources: vec![],
            steps: vec![
                Step { id: Id::generate(), kind: StepType::Recipient, entity: Some(EntityRef { id: entity.clone(), name: "B".into() }), integration: Some(Integration { module_id: "m".into(), mappings }) },
                Step { id: Id::generate(), kind: StepType::Recipient, entity: Some(EntityRef { id: Id::generate(), name: "Other".into() }), integration: None },
            ],
            acceptance_criteria: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            version: 4,
        }
    }

    #[test]
    fn the_connection_to_set_up_is_named_by_id_or_by_its_accepted_invitation() {
        use crate::partners::invitation::{Direction, InvitationStatus, sample};
        let connection = Id::generate();
        let accepted = Invitation { connection_id: Some(connection.clone()), ..sample(InvitationStatus::Accepted, Direction::Received) };
        assert_eq!(setup_connection(None, Some(&accepted)).unwrap(), connection);
        assert_eq!(setup_connection(Some(connection.clone()), Some(&accepted)).unwrap(), connection);
        assert_eq!(setup_connection(Some(connection.clone()), None).unwrap(), connection);
        assert!(matches!(setup_connection(Some(Id::generate()), Some(&accepted)), Err(Refusal::Malformed(_))), "they disagree");
        assert!(matches!(setup_connection(None, None), Err(Refusal::Invalid { .. })));
        let pending = sample(InvitationStatus::Pending, Direction::Received);
        assert!(matches!(setup_connection(Some(connection), Some(&pending)), Err(Refusal::Conflict(_))), "not accepted yet");
    }

    #[test]
    fn only_an_active_connection_with_the_caller_as_buyer_is_set_up() {
        assert!(check_buyer(&connection(Relationship::Seller, ConnectionStatus::Active)).is_ok());
        assert!(check_buyer(&connection(Relationship::Both, ConnectionStatus::Active)).is_ok());
        let seller = check_buyer(&connection(Relationship::Buyer, ConnectionStatus::Active)).unwrap_err();
        assert!(matches!(&seller, Refusal::NotAllowed(d) if d.contains("not the buyer")), "{seller:?}");
        assert!(check_active(&connection(Relationship::Seller, ConnectionStatus::Active)).is_ok());
        assert!(check_active(&connection(Relationship::Seller, ConnectionStatus::Revoked)).unwrap_err().detail().contains("revoked"));
    }

    #[test]
    fn a_free_buyer_gets_a_default_flow_and_each_buyer_step_one_mapping() {
        let conn = connection(Relationship::Seller, ConnectionStatus::Active);
        let seller_entity = EntityRef { id: Id::generate(), name: "Buyer Inc".into() };
        let stale = Mapping { property: FLOW_ID_PROPERTY.into(), value: "old".into() };
        let mut seller = flow_with_step(&seller_entity.id, vec![stale, Mapping { property: "x".into(), value: "y".into() }]);
        seller.sources.push(Source { id: Id::generate(), entity: EntityRef { id: seller_entity.id.clone(), name: "B".into() } });
        let buyer_entity = entity();
        let plan = plan(&account(Plan::Free), &conn, &buyer_entity, None, &"now".into()).unwrap();
        assert!(plan.buyer_flow_previous.is_none());
        assert_eq!(plan.buyer_flow.name, "Leads from Seller Co");
        assert_eq!(plan.buyer_flow.sources[0].entity.id, buyer_entity.id);
        let patch = seller_flow_patch(&seller, &seller_entity, &plan.buyer_flow.id).expect("a patch");
        assert_eq!(patch.steps.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0], "steps to other buyers untouched");
        let step = &patch.steps[0].1;
        let mappings = &step.integration.as_ref().unwrap().mappings;
        let flow_ids: Vec<&Mapping> = mappings.iter().filter(|m| m.property == FLOW_ID_PROPERTY).collect();
        assert_eq!(flow_ids.len(), 1, "replaced, not duplicated");
        assert_eq!(flow_ids[0].value, plan.buyer_flow.id.to_string());
        assert!(mappings.iter().any(|m| m.property == "x"), "other mappings kept");
        assert_eq!(step.entity.as_ref().map(|e| e.name.as_str()), Some("Buyer Inc"), "the step takes the entity's name now (it was \"B\")");
        assert_eq!(patch.sources, [(0, Source { entity: seller_entity.clone(), ..seller.sources[0].clone() })], "so does the source");
        // Applied, the flow needs nothing more: a retried setup writes nothing twice.
        seller.steps[0] = step.clone();
        seller.sources[0] = patch.sources[0].1.clone();
        assert_eq!(seller_flow_patch(&seller, &seller_entity, &plan.buyer_flow.id), None);
    }

    #[test]
    fn only_paid_buyers_route_to_a_chosen_flow_which_gains_the_seller_once() {
        let conn = connection(Relationship::Seller, ConnectionStatus::Active);
        let buyer_entity = entity();
        let chosen = Flow { sources: vec![], ..flow_with_step(&Id::generate(), vec![]) };
        let free = plan(&account(Plan::Free), &conn, &buyer_entity, Some(chosen.clone()), &"now".into());
        assert!(free.unwrap_err().detail().contains("paid"));
        let paid = plan(&account(Plan::Paid), &conn, &buyer_entity, Some(chosen.clone()), &"now".into()).unwrap();
        assert_eq!(paid.buyer_flow.id, chosen.id);
        assert_eq!(paid.buyer_flow.sources.len(), 1);
        let again = plan(&account(Plan::Paid), &conn, &buyer_entity, Some(paid.buyer_flow.clone()), &"now".into()).unwrap();
        assert_eq!(again.buyer_flow.sources.len(), 1, "the seller is a source once");
    }
}
