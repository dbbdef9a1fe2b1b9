//! Flows and the buyer-step index beside them.

use std::collections::HashMap;

use super::OnboardsTable;
use crate::store::tx::{Part, TxError, Write, busy};
use crate::onboards::domain::flow::{Flow, FlowBody, StepType};
use crate::partners::domain::Entity;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::store::lists::{MAX_LIMIT, Page, PageRequest};
use crate::platform::time;

/// A buyer-step index entry: which step of which flow delivers to the entity in its key.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct BuyerStepRef {
    pub flow_id: Id,
    pub step_id: Id,
    pub entity_id: Id,
}

fn buyer_step_refs(account: &Id, flow: &Flow) -> Vec<(keys::Key, BuyerStepRef)> {
    flow.steps
        .iter()
        .filter(|s| s.kind == StepType::Recipient)
        .filter_map(|s| {
            let entity = &s.entity.as_ref()?.id;
            let key = keys::buyer_step(account, entity, &flow.id, &s.id);
            Some((key, BuyerStepRef { flow_id: flow.id.clone(), step_id: s.id.clone(), entity_id: entity.clone() }))
        })
        .collect()
}

/// The writes of a flow at its new version and of its buyer-step index.
fn flow_writes(account: &Id, flow: &Flow, previous: Option<&Flow>) -> Result<Vec<Write>, ApiError> {
    let key = keys::flow(account, &flow.id);
    let put = Write::put(Part::Flow, key, keys::flow_item(account, flow)?);
    let put = match previous {
        None => put.only_if("attribute_not_exists(#pk)"),
        Some(old) => put.only_if("#version = :version").value(":version", keys::value(&old.version)?),
    };
    let mut writes = vec![put];
    let new_refs = buyer_step_refs(account, flow);
    for (key, _) in previous.map(|old| buyer_step_refs(account, old)).unwrap_or_default() {
        if !new_refs.iter().any(|(k, _)| *k == key) {
            writes.push(Write::delete(Part::BuyerStep, key));
        }
    }
    for (key, reference) in new_refs {
        writes.push(Write::put(Part::BuyerStep, key.clone(), keys::item(&key, ItemType::BuyerStep, &reference)?));
    }
    Ok(writes)
}

/// The most flows `all_flows` reads.
pub const MAX_FLOWS_READ: usize = 1000;

impl OnboardsTable<'_> {
    /// The account's flows, newest first.
    pub async fn flows(&self, account: &Id, page: &PageRequest) -> Result<Page<Flow>, ApiError> {
        self.db.list(account, prefix::FLOW, page, None).await
    }

    /// Up to `MAX_FLOWS_READ` of the account's flows, newest first, in pages of the longest
    /// list page (a listing for people, bounded: at most ten Queries).
    pub async fn all_flows(&self, account: &Id) -> Result<Vec<Flow>, ApiError> {
        let mut flows = vec![];
        let mut page = PageRequest { limit: MAX_LIMIT, cursor: None };
        while flows.len() < MAX_FLOWS_READ {
            let listed = self.flows(account, &page).await?;
            flows.extend(listed.items);
            match listed.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => break,
            }
        }
        flows.truncate(MAX_FLOWS_READ);
        Ok(flows)
    }

    /// A flow by its id alone, with its account: one Query on GSI1.
    pub async fn flow_by_id(&self, id: &Id) -> Result<Option<(Id, Flow)>, ApiError> {
        let Some(item) = self.db.find_indexed(keys::flow_index(id)).await? else { return Ok(None) };
        let owner = keys::account_of(&item);
        let flow: Flow = keys::parse(item)?;
        Ok(owner.map(|owner| (owner, flow)))
    }

    pub async fn flow(&self, account: &Id, id: &Id) -> Result<Option<Flow>, ApiError> {
        self.db.get_as(&keys::flow(account, id)).await
    }

    /// Criteria need the paid plan: the account is read only for a body that has them.
    async fn check_plan(&self, account: &Id, body: &FlowBody) -> Result<(), ApiError> {
        if body.acceptance_criteria.is_none() {
            return Ok(());
        }
        let owner = self.db.accounts().account(account).await?.ok_or(ApiError::NotFound("account"))?;
        Ok(body.check_plan(owner.plan)?)
    }

    /// The new flow, with the entities it names (for its view).
    pub async fn create_flow(&self, account: &Id, body: FlowBody) -> Result<(Flow, HashMap<Id, Entity>), ApiError> {
        body.validate()?;
        self.check_plan(account, &body).await?;
        let ids: Vec<Id> = body.entity_ids().into_iter().map(|(_, id)| id).collect();
        let entities = self.db.partners().entities_among(account, &ids).await?;
        let now = time::now();
        let flow = body.into_flow(Id::generate(), &entities, now.clone(), now, 1)?;
        self.db.transact(flow_writes(account, &flow, None)?).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict("flow could not be created; retry".into()),
        })?;
        Ok((flow, entities))
    }

    /// Replaces a flow; `expected_version` (from `If-Match`) makes it conditional on the
    /// version the client saw, otherwise on the version read here. Returns the entities it names.
    pub async fn update_flow(&self, account: &Id, id: &Id, body: FlowBody, expected_version: Option<u64>) -> Result<(Flow, HashMap<Id, Entity>), ApiError> {
        body.validate()?;
        self.check_plan(account, &body).await?;
        let old = self.flow(account, id).await?.ok_or(ApiError::NotFound("flow"))?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(ApiError::Conflict(format!("flow {id} changed since version {} (now {})", expected_version.unwrap_or_default(), old.version)));
        }
        let ids: Vec<Id> = body.entity_ids().into_iter().map(|(_, id)| id).collect();
        let entities = self.db.partners().entities_among(account, &ids).await?;
        let flow = body.into_flow(id.clone(), &entities, old.created_at.clone(), time::now(), old.version + 1)?;
        self.db.transact(flow_writes(account, &flow, Some(&old))?).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict(format!("flow {id} was changed concurrently; retry")),
        })?;
        Ok((flow, entities))
    }

    /// The flow ids of every `account` flow with a recipient step delivering to `entity`: one
    /// Query on the buyer-step index.
    pub async fn flows_delivering_to(&self, account: &Id, entity: &Id) -> Result<Vec<BuyerStepRef>, ApiError> {
        let out = self
            .db.client()
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", keys::string(keys::account_partition(account)))
            .expression_attribute_values(":prefix", keys::string(keys::buyer_steps_prefix(entity)))
            .consistent_read(true)
            .send()
            .await?;
        out.items.unwrap_or_default().into_iter().map(keys::parse).collect()
    }
}
