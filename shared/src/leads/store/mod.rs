//! The leads area's items: leads, under their flow in the flow account's partition, each also
//! found by its id alone through GSI1 (the owner is checked).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::leads::domain::delivery::Delivery;
use crate::leads::domain::lead::{Lead, StepResult};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, Item, ItemType};
use crate::store::lists::{Filter, Page, PageRequest};
use crate::store::tx::{Part, TxError, Write, busy};
use crate::platform::time;

/// The leads area's part of the table.
#[derive(Clone, Copy, Debug)]
pub struct LeadsTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The leads area's part of the table.
    pub fn leads(&self) -> LeadsTable<'_> {
        LeadsTable { db: self }
    }
}

fn lead_item(lead: &Lead) -> Result<Item, ApiError> {
    let key = keys::lead(&lead.account_id, &lead.flow_id, &lead.id);
    let mut item = keys::item(&key, ItemType::Lead, lead)?;
    item.extend(keys::lead_index(&lead.id));
    let expires = time::parse(&lead.expires_at).ok_or_else(|| ApiError::Internal(format!("lead expiry {}", lead.expires_at)))?;
    item.insert(keys::TTL.to_string(), AttributeValue::N(time::epoch_seconds(expires).to_string()));
    Ok(item)
}

/// TTL deletes late: a lead past its expiry is treated as gone.
fn live(lead: Lead) -> Option<Lead> {
    (lead.expires_at > time::now()).then_some(lead)
}

impl LeadsTable<'_> {
    pub async fn store(&self, lead: &Lead) -> Result<(), ApiError> {
        self.db.transact(vec![Write::put(Part::Lead, keys::lead(&lead.account_id, &lead.flow_id, &lead.id), lead_item(lead)?).only_if("attribute_not_exists(#pk)")])
            .await
            .map_err(|err| match err {
                TxError::Other(e) => e,
                TxError::Busy => busy(),
                _ => ApiError::Conflict("the lead could not be stored; retry".into()),
            })
    }

    /// One of the account's leads by its id (404 for another account's).
    pub async fn lead(&self, account: &Id, id: &Id) -> Result<Option<Lead>, ApiError> {
        let Some(item) = self.db.find_indexed(keys::lead_index(id)).await? else { return Ok(None) };
        let lead: Lead = keys::parse(item)?;
        Ok(live(lead).filter(|l| &l.account_id == account))
    }

    /// A lead as its delivery reads it: strongly consistent, by its full key.
    pub async fn lead_in_flow(&self, account: &Id, flow: &Id, id: &Id) -> Result<Option<Lead>, ApiError> {
        Ok(self.db.get_as(&keys::lead(account, flow, id)).await?.and_then(live))
    }

    /// A flow's leads, newest first.
    pub async fn leads_of_flow(&self, account: &Id, flow: &Id, page: &PageRequest) -> Result<Page<Lead>, ApiError> {
        let unexpired = Filter { expression: "#expires_at > :now".into(), values: vec![(":now", keys::string(time::now()))] };
        self.db.list(account, &keys::leads_prefix(flow), page, Some(unexpired)).await
    }

    /// Settles step `index` of `lead` as `delivery` says, once: the seller's lead is conditioned
    /// on the version read, and the buyer's lead is written with it. The connection's figures are
    /// counted from the table's stream, off this path (`PartnersTable::count_figures`): no item
    /// every delivery writes. `Ok(false)`: someone settled it first.
    pub async fn settle(&self, lead: &Lead, index: usize, settled: &StepResult, delivery: &Delivery) -> Result<bool, ApiError> {
        let now = time::now();
        let mut steps = lead.steps.clone();
        steps[index] = settled.clone();
        let mut writes = vec![
            Write::update(Part::Lead, keys::lead(&lead.account_id, &lead.flow_id, &lead.id))
                .set("steps", keys::value(&steps)?)
                .set("updated_at", keys::string(now.as_str()))
                .add("version", AttributeValue::N("1".into()))
                .only_if("#version = :version")
                .value(":version", keys::value(&lead.version)?),
        ];
        if let Delivery::Deliver(delivered) = delivery {
            writes.push(Write::put(Part::Delivered, keys::lead(&delivered.account_id, &delivered.flow_id, &delivered.id), lead_item(delivered)?).only_if("attribute_not_exists(#pk)"));
        }
        match self.db.transact(writes).await {
            Ok(()) => Ok(true),
            Err(TxError::Condition(Part::Lead)) => Ok(false),
            Err(TxError::Busy) => Err(busy()),
            Err(TxError::Condition(what)) => Err(ApiError::Internal(format!("settling a lead step: the {what:?} write's condition failed"))),
            Err(TxError::Other(e)) => Err(e),
        }
    }
}
