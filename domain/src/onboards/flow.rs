//! Flows: just enough of LeadConduit's flow object for buyer delivery: sources (who sends leads
//! in) and steps, of which `recipient` steps deliver to a partner (a buyer step).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::onboards::criteria::AcceptanceCriteria;
use crate::partners::Entity;
use crate::platform::accounts::Plan;
use crate::Refusal;
use crate::platform::validate;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Bounds that keep one flow item far below DynamoDB's 400 KB (with the 64 KiB body limit) and
/// one flow's writes inside one transaction.
pub const MAX_FIELDS: usize = 500;
pub const MAX_SOURCES: usize = 100;
pub const MAX_STEPS: usize = 40;
pub const MAX_MAPPINGS: usize = 100;
const MAX_TEXT: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepType {
    /// Delivers leads to a partner: a buyer step.
    Recipient,
    /// Accepts or rejects leads on the flow's own rules; names no partner.
    Filter,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityRef {
    pub id: Id,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub property: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    pub module_id: String,
    #[serde(default)]
    pub mappings: Vec<Mapping>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: Id,
    pub entity: EntityRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: Id,
    #[serde(rename = "type")]
    pub kind: StepType,
    pub entity: Option<EntityRef>,
    pub integration: Option<Integration>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: Id,
    pub name: String,
    pub enabled: bool,
    pub fields: Vec<String>,
    pub sources: Vec<Source>,
    pub steps: Vec<Step>,
    /// Paid accounts only: what a lead must satisfy to be accepted (`None`: every lead is).
    #[serde(default)]
    pub acceptance_criteria: Option<AcceptanceCriteria>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// `{ "id": ... }` naming one of the caller's entities; a `name` sent along is ignored (the
/// entity's own name is used).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRefBody {
    pub id: Id,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    pub id: Option<Id>,
    pub entity: EntityRefBody,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub id: Option<Id>,
    #[serde(rename = "type")]
    pub kind: StepType,
    pub entity: Option<EntityRefBody>,
    pub integration: Option<Integration>,
}

/// The body of `POST /flows` and `PUT /flows/{id}` (the whole flow; unknown fields are rejected).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowBody {
    pub name: String,
    pub enabled: bool,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub sources: Vec<SourceBody>,
    #[serde(default)]
    pub steps: Vec<StepBody>,
    #[serde(default)]
    pub acceptance_criteria: Option<AcceptanceCriteria>,
}

fn at_most<T>(field: &str, items: &[T], max: usize) -> Result<(), Refusal> {
    if items.len() > max {
        return Err(Refusal::invalid(field, format!("at most {max} allowed, got {}", items.len())));
    }
    Ok(())
}

impl FlowBody {
    /// Shape and bounds, before any entity is looked up.
    pub fn validate(&self) -> Result<(), Refusal> {
        validate::name("name", &self.name)?;
        at_most("fields", &self.fields, MAX_FIELDS)?;
        at_most("sources", &self.sources, MAX_SOURCES)?;
        at_most("steps", &self.steps, MAX_STEPS)?;
        if let Some(criteria) = &self.acceptance_criteria {
            criteria.validate("acceptance_criteria")?;
        }
        for (i, field) in self.fields.iter().enumerate() {
            validate::text(&format!("fields[{i}]"), field, MAX_TEXT)?;
        }
        let (mut ids, mut buyers) = (HashSet::new(), HashSet::new());
        for (i, step) in self.steps.iter().enumerate() {
            // One step per buyer: a second would deliver the same lead to it again (and multiply
            // what one submission causes).
            if let Some(entity) = step.entity.as_ref().filter(|_| step.kind == StepType::Recipient) {
                if !buyers.insert(&entity.id) {
                    return Err(Refusal::invalid(format!("steps[{i}].entity.id"), "an earlier step already delivers to this entity"));
                }
            }
            if let Some(id) = &step.id {
                if !ids.insert(id) {
                    return Err(Refusal::invalid(format!("steps[{i}].id"), "step ids must be unique"));
                }
            }
            match (step.kind, &step.entity) {
                (StepType::Recipient, None) => return Err(Refusal::invalid(format!("steps[{i}].entity"), "a recipient step names its entity")),
                (StepType::Filter, Some(_)) => return Err(Refusal::invalid(format!("steps[{i}].entity"), "a filter step names no entity")),
                _ => {}
            }
            if let Some(integration) = &step.integration {
                validate::text(&format!("steps[{i}].integration.module_id"), &integration.module_id, MAX_TEXT)?;
                at_most(&format!("steps[{i}].integration.mappings"), &integration.mappings, MAX_MAPPINGS)?;
                for (j, mapping) in integration.mappings.iter().enumerate() {
                    validate::text(&format!("steps[{i}].integration.mappings[{j}].property"), &mapping.property, MAX_TEXT)?;
                    validate::text(&format!("steps[{i}].integration.mappings[{j}].value"), &mapping.value, MAX_TEXT)?;
                }
            }
        }
        Ok(())
    }

    /// Acceptance criteria (lead filtering and rejection) are a paid account's (seed 002).
    pub fn check_plan(&self, plan: Plan) -> Result<(), Refusal> {
        if self.acceptance_criteria.is_some() && plan != Plan::Paid {
            return Err(Refusal::NotAllowed("acceptance criteria (lead filtering and rejection) need a paid account".into()));
        }
        Ok(())
    }

    /// Every entity the body names, with the field that names it.
    pub fn entity_ids(&self) -> Vec<(String, Id)> {
        let sources = self.sources.iter().enumerate().map(|(i, s)| (format!("sources[{i}].entity.id"), s.entity.id.clone()));
        let steps = self.steps.iter().enumerate().filter_map(|(i, s)| s.entity.as_ref().map(|e| (format!("steps[{i}].entity.id"), e.id.clone())));
        sources.chain(steps).collect()
    }

    /// The flow this body describes, given the caller's entities it names (looked up by the
    /// store). Entities must be the caller's (another's is a 404); a recipient step that delivers to another account
    /// needs that account's connection to be active.
    pub fn into_flow(self, id: Id, entities: &HashMap<Id, Entity>, created_at: Timestamp, now: Timestamp, version: u64) -> Result<Flow, Refusal> {
        let entity_ref = |id: &Id| -> Result<(EntityRef, &Entity), Refusal> {
            // An entity that is not the caller's is as absent as any other account's data.
            let entity = entities.get(id).ok_or(Refusal::NotFound("entity"))?;
            Ok((EntityRef { id: entity.id.clone(), name: entity.name.clone() }, entity))
        };
        let mut sources = vec![];
        for source in self.sources {
            let (entity, _) = entity_ref(&source.entity.id)?;
            sources.push(Source { id: source.id.unwrap_or_else(Id::generate), entity });
        }
        let mut steps = vec![];
        for (i, step) in self.steps.into_iter().enumerate() {
            let entity = match &step.entity {
                Some(named) => {
                    let (reference, entity) = entity_ref(&named.id)?;
                    if step.kind == StepType::Recipient && entity.connected_account_id.is_some() && !is_connected(entity) {
                        return Err(Refusal::Conflict(format!("steps[{i}].entity.id: the connection with {} is not active", entity.name)));
                    }
                    Some(reference)
                }
                None => None,
            };
            steps.push(Step { id: step.id.unwrap_or_else(Id::generate), kind: step.kind, entity, integration: step.integration });
        }
        Ok(Flow {
            id,
            name: self.name.trim().to_string(),
            enabled: self.enabled,
            fields: self.fields,
            sources,
            steps,
            acceptance_criteria: self.acceptance_criteria,
            created_at,
            updated_at: now,
            version,
        })
    }
}

/// Whether leads can flow with this partner now: connected, and the connection not revoked.
pub fn is_connected(entity: &Entity) -> bool {
    entity.connected.is_some() && entity.connection_id.is_some()
}

impl Flow {
    pub fn entity_ids(&self) -> Vec<Id> {
        self.sources.iter().map(|s| s.entity.id.clone()).chain(self.steps.iter().filter_map(|s| s.entity.as_ref().map(|e| e.id.clone()))).collect()
    }

    /// The flow as the API shows it: each source and partner step says whether it is `active`,
    /// judged from the entities now, so a revoked connection shows at once.
    pub fn view(&self, entities: &HashMap<Id, Entity>) -> serde_json::Value {
        let active = |entity: &Option<EntityRef>| entity.as_ref().is_none_or(|e| entities.get(&e.id).is_some_and(is_connected));
        let mut value = serde_json::to_value(self).unwrap_or_default();
        for (source, json) in self.sources.iter().zip(value["sources"].as_array_mut().into_iter().flatten()) {
            json["active"] = serde_json::Value::Bool(active(&Some(source.entity.clone())));
        }
        for (step, json) in self.steps.iter().zip(value["steps"].as_array_mut().into_iter().flatten()) {
            json["active"] = serde_json::Value::Bool(active(&step.entity));
        }
        value
    }

    /// The recipient steps that deliver to `entity`.
    pub fn buyer_steps_for(&self, entity: &Id) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.kind == StepType::Recipient && s.entity.as_ref().is_some_and(|e| &e.id == entity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners::Relationship;

    fn entity(connected: bool, account: bool) -> Entity {
        Entity {
            id: Id::generate(),
            name: "Partner".into(),
            pending: !connected && !account,
            connected: connected.then_some(Relationship::Buyer),
            connected_account_id: account.then(Id::generate),
            connection_id: connected.then(Id::generate),
            former_connection_id: None,
            invitation_id: None,
            invitation_expires_at: None,
            created_at: "2019-08-24T14:15:22Z".into(),
            updated_at: "2019-08-24T14:15:22Z".into(),
        }
    }

    fn body(json: serde_json::Value) -> FlowBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn bodies_are_bounded_and_steps_well_formed() {
        let too_many = body(serde_json::json!({ "name": "f", "enabled": true, "fields": vec!["x"; MAX_FIELDS + 1] }));
        assert_eq!(too_many.validate().unwrap_err(), Refusal::invalid("fields", format!("at most {MAX_FIELDS} allowed, got {}", MAX_FIELDS + 1)));
        let id = Id::generate().to_string();
        let recipient_without_entity = body(serde_json::json!({ "name": "f", "enabled": true, "steps": [{ "type": "recipient" }] }));
        assert!(recipient_without_entity.validate().unwrap_err().to_string().contains("steps[0].entity"));
        let filter_with_entity = body(serde_json::json!({ "name": "f", "enabled": true, "steps": [{ "type": "filter", "entity": { "id": id } }] }));
        assert!(filter_with_entity.validate().is_err());
        let duplicate = body(serde_json::json!({ "name": "f", "enabled": true, "steps": [{ "id": id, "type": "filter" }, { "id": id, "type": "filter" }] }));
        assert!(duplicate.validate().unwrap_err().to_string().contains("steps[1].id"));
        let empty_mapping = body(serde_json::json!({ "name": "f", "enabled": true, "steps": [{ "type": "filter", "integration": { "module_id": "m", "mappings": [{ "property": "", "value": "v" }] } }] }));
        assert!(empty_mapping.validate().unwrap_err().to_string().contains("mappings[0].property"));
        assert!(body(serde_json::json!({ "name": " ", "enabled": true })).validate().is_err());
    }

    #[test]
    fn acceptance_criteria_are_validated_and_need_the_paid_plan() {
        let with = body(serde_json::json!({ "name": "f", "enabled": true, "acceptance_criteria": { "required": ["email"] } }));
        assert!(with.validate().is_ok());
        assert!(matches!(with.check_plan(Plan::Free).unwrap_err(), Refusal::NotAllowed(_)));
        assert!(with.check_plan(Plan::Paid).is_ok());
        assert!(body(serde_json::json!({ "name": "f", "enabled": true })).check_plan(Plan::Free).is_ok());
        let blank = body(serde_json::json!({ "name": "f", "enabled": true, "acceptance_criteria": { "required": [" "] } }));
        assert!(blank.validate().unwrap_err().to_string().contains("acceptance_criteria.required[0]"));
    }

    #[test]
    fn entities_must_be_the_callers_and_buyer_steps_need_an_active_connection() {
        let connected = entity(true, true);
        let revoked = entity(false, true);
        let pending = entity(false, false);
        let entities: HashMap<Id, Entity> = [&connected, &revoked, &pending].into_iter().map(|e| (e.id.clone(), e.clone())).collect();
        let flow_with = |step_entity: &Id| {
            body(serde_json::json!({ "name": "f", "enabled": true, "sources": [{ "entity": { "id": connected.id } }], "steps": [{ "type": "recipient", "entity": { "id": step_entity } }] }))
                .into_flow(Id::generate(), &entities, "t".into(), "t".into(), 1)
        };
        let flow = flow_with(&connected.id).unwrap();
        assert_eq!(flow.sources[0].entity.name, "Partner");
        assert_eq!(flow.buyer_steps_for(&connected.id).count(), 1);
        assert!(flow_with(&pending.id).is_ok(), "a partner still being invited may be named");
        let err = flow_with(&revoked.id).unwrap_err();
        assert!(err.to_string().contains("steps[0].entity.id") && err.to_string().contains("not active"), "{err}");
        assert!(matches!(flow_with(&revoked.id).unwrap_err(), Refusal::Conflict(_)), "the partner's state, not the body, is what refuses");
        assert_eq!(flow_with(&Id::generate()).unwrap_err(), Refusal::NotFound("entity"), "another account's entity is as absent as any");
    }

    #[test]
    fn views_mark_sources_and_steps_of_revoked_partners_inactive() {
        let partner = entity(true, true);
        let mut entities: HashMap<Id, Entity> = HashMap::from([(partner.id.clone(), partner.clone())]);
        let flow = body(serde_json::json!({ "name": "f", "enabled": true, "sources": [{ "entity": { "id": partner.id } }], "steps": [{ "type": "recipient", "entity": { "id": partner.id } }, { "type": "filter" }] }))
            .into_flow(Id::generate(), &entities, "t".into(), "t".into(), 1)
            .unwrap();
        let view = flow.view(&entities);
        assert_eq!(view["sources"][0]["active"], true);
        assert_eq!(view["steps"][0]["active"], true);
        entities.get_mut(&partner.id).unwrap().connected = None;
        let view = flow.view(&entities);
        assert_eq!(view["sources"][0]["active"], false);
        assert_eq!(view["steps"][0]["active"], false);
        assert_eq!(view["steps"][1]["active"], true, "steps without a partner stay active");
    }
}
