//! The leads area's items: leads, under their flow in the flow account's partition, each also
//! found by its id alone through GSI1 (the owner is checked).

pub mod reports;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::leads::domain::delivery::Delivery;
use crate::leads::domain::lead::{Lead, StepResult};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, Item, ItemType};
use crate::store::lists::{Page, PageRequest};
use crate::store::tx::{Part, TxError, Write, busy};
use crate::platform::time;

/// Which of a flow's leads a listing returns: from one of its sources, with one outcome.
#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    pub source: Option<Id>,
    pub outcome: Option<crate::leads::domain::lead::Outcome>,
}

impl LeadFilter {
    fn expression(&self) -> Option<crate::store::lists::Filter> {
        let mut clauses = vec![];
        let mut values = vec![];
        if let Some(source) = &self.source {
            clauses.push("#source.#id = :source");
            values.push((":source", keys::string(source.to_string())));
        }
        if let Some(outcome) = self.outcome {
            clauses.push("#outcome = :outcome");
            values.push((":outcome", keys::value(&outcome).ok()?));
        }
        (!clauses.is_empty()).then(|| crate::store::lists::Filter { expression: clauses.join(" AND "), values })
    }
}

/// A lead with a buyer step pending since before a time (`LeadsTable::pending_leads`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PendingLead {
    pub account_id: Id,
    pub flow_id: Id,
    pub lead_id: Id,
    pub created_at: String,
}

impl PendingLead {
    fn of(item: &Item) -> Option<PendingLead> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
        let mut partition = text(keys::PK)?.strip_prefix("LEADS#")?.split('#');
        let (account_id, flow_id) = (Id::parse(partition.next()?)?, Id::parse(partition.next()?)?);
        let (created_at, lead) = text(keys::PENDING_LEADS_SK)?.rsplit_once('#')?;
        Some(PendingLead { account_id, flow_id, lead_id: Id::parse(lead)?, created_at: created_at.to_string() })
    }
}

/// One page of newest-first items from the shards' reads (each: its items and where it stopped,
/// if it has more), and where the next page starts. A filtered shard may stop before its matches
/// run out: the page holds only what is at or above the highest point a shard stopped at (every
/// shard was read that far) and goes on from there — a page may then be short, or empty with a
/// next one.
fn merge_shards(read: Vec<(Vec<Item>, Option<String>)>, limit: usize) -> (Vec<Item>, Option<String>) {
    let frontier = read.iter().filter_map(|(_, stopped_at)| stopped_at.clone()).max();
    let mut items: Vec<Item> = read.into_iter().flat_map(|(items, _)| items).filter(|item| frontier.as_deref().is_none_or(|f| sort_key(item) >= f)).collect();
    items.sort_by(|a, b| sort_key(b).cmp(sort_key(a)));
    let more = items.len() > limit;
    items.truncate(limit);
    let resume_at = if more { items.last().map(|last| sort_key(last).to_string()) } else { frontier };
    (items, resume_at)
}

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
    if lead.pending_steps().next().is_some() {
        item.extend(keys::pending_lead_index(&lead.id, &lead.created_at));
    }
    let expires = time::parse(&lead.expires_at).ok_or_else(|| ApiError::Internal(format!("lead expiry {}", lead.expires_at)))?;
    item.insert(keys::TTL.to_string(), AttributeValue::N(time::epoch_seconds(expires).to_string()));
    Ok(item)
}

fn sort_key(item: &Item) -> &str {
    item.get(keys::SK).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
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

    /// A flow's leads, newest first: one Query per shard (at once), merged. Each shard gives its
    /// newest `limit + 1` before the cursor, so the merge holds the page and knows whether another
    /// follows: pages are exact, and the last one names no next cursor.
    pub async fn leads_of_flow(&self, account: &Id, flow: &Id, page: &PageRequest, only: &LeadFilter) -> Result<Page<Lead>, ApiError> {
        let list = keys::lead_partition(account, flow, keys::LEAD_SHARDS);
        let before = page.cursor.as_deref().map(|c| self.db.open_cursor(c, &list)).transpose()?;
        let now = time::now();
        let filter = only.expression();
        let shards = (0..keys::LEAD_SHARDS).map(|shard| self.db.newest_before(keys::lead_partition(account, flow, shard), before.as_deref(), page.limit + 1, filter.as_ref()));
        let (items, resume_at) = merge_shards(futures_util::future::try_join_all(shards).await?, page.limit as usize);
        let next_cursor = resume_at.and_then(|at| self.db.seal_cursor(&at, &list));
        let leads = items.into_iter().map(keys::parse::<Lead>).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: leads.into_iter().filter(|l| l.expires_at > now).collect(), next_cursor })
    }

    /// Every lead across accounts with a buyer step pending that came in before `before`, oldest
    /// first: one Query per partition of the sparse index (keys only; no Scan).
    pub async fn pending_leads(&self, before: &str) -> Result<Vec<PendingLead>, ApiError> {
        let mut found = vec![];
        for shard in 0..keys::LEAD_SHARDS {
            let keys_of = (keys::PENDING_LEADS_PK, keys::PENDING_LEADS_SK);
            let items = self.db.query_all(Some(keys::PENDING_LEADS), keys_of, format!("PENDING#{shard}"), "#sk < :before", &[(":before", before.to_string())]).await?;
            found.extend(items.iter().filter_map(PendingLead::of));
        }
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(found)
    }

    /// Settles step `index` of `lead` as `delivery` says, once: the seller's lead is conditioned
    /// on the version read, and the buyer's lead is written with it. The connection's figures are
    /// counted from the table's stream, off this path (`PartnersTable::count_figures`): no item
    /// every delivery writes. `Ok(false)`: someone settled it first.
    pub async fn settle(&self, lead: &Lead, index: usize, settled: &StepResult, delivery: &Delivery) -> Result<bool, ApiError> {
        let now = time::now();
        // Only the settled step is sent: the request does not grow with the lead's steps.
        let mut update = Write::update(Part::Lead, keys::lead(&lead.account_id, &lead.flow_id, &lead.id))
            .set_element("steps", index, keys::value(settled)?)
            .set("updated_at", keys::string(now.as_str()))
            .add("version", AttributeValue::N("1".into()))
            .only_if("#version = :version")
            .value(":version", keys::value(&lead.version)?);
        // The last pending step settled: the lead leaves the index of pending leads.
        if lead.pending_steps().all(|(i, _)| i == index) {
            update = update.remove(keys::PENDING_LEADS_PK).remove(keys::PENDING_LEADS_SK);
        }
        let mut writes = vec![update];
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

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sks: &[&str]) -> Vec<Item> {
        sks.iter().map(|sk| Item::from([(keys::SK.to_string(), keys::string(*sk))])).collect()
    }

    fn sks(items: &[Item]) -> Vec<&str> {
        items.iter().map(sort_key).collect()
    }

    #[test]
    fn a_page_of_filtered_shards_stops_where_every_shard_was_read() {
        // Shard a read down to 5 (and has more), its matches 9 and 6; shard b read to its end.
        let (page, next) = merge_shards(vec![(items(&["9", "6"]), Some("5".into())), (items(&["8", "4", "2"]), None)], 10);
        assert_eq!((sks(&page), next.as_deref()), (vec!["9", "8", "6"], Some("5")), "4 and 2 wait until a is read below 5");
        let (page, next) = merge_shards(vec![(items(&[]), Some("5".into())), (items(&["4"]), None)], 10);
        assert_eq!((sks(&page), next.as_deref()), (vec![], Some("5")), "nothing above 5 matched: an empty page, and on");
        let (page, next) = merge_shards(vec![(items(&["9", "7"]), None), (items(&["8"]), None)], 2);
        assert_eq!((sks(&page), next.as_deref()), (vec!["9", "8"], Some("8")));
        let (page, next) = merge_shards(vec![(items(&["9"]), None), (items(&["8"]), None)], 2);
        assert_eq!((sks(&page), next), (vec!["9", "8"], None), "the last page names no next one");
    }
}
