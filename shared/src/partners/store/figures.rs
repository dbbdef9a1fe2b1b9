//! A connection's delivery figures, counted off the delivery path (issue 26): a batch of settled
//! buyer steps from the table's stream becomes, per connection, one update of each copy of the
//! connection (its totals) — not one write per lead on items every delivery shares. (The figures
//! over time are the partner reports', `crate::store::leads::reports`.) Each step is counted once
//! however often the stream delivers it: its marker (`COUNTED#<lead>`, one item per lead, so no
//! partition is shared) commits in the same transaction as the counts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::leads::domain::figures::{Counts, FigureEvent, tally};
use crate::partners::domain::Connection;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, Item, ItemType, Key};
use crate::store::partners::PartnersTable;
use crate::store::tx::{MAX_TRANSACTION_ITEMS, Part, TxError, Write, busy};

/// Longer than the stream keeps a record (24 h): a redelivered step always finds its marker.
const MARKER_TTL: Duration = Duration::from_secs(2 * 86_400);

fn marker(event: &FigureEvent) -> Key {
    Key { pk: format!("COUNTED#{}", event.lead_id), sk: event.step_id.to_string() }
}

/// `counts` added to an update (only the figures that moved).
fn add_counts(mut write: Write, counts: &Counts, names: [&str; 3]) -> Write {
    for (name, n) in names.into_iter().zip([counts.delivered, counts.rejected, counts.failed]) {
        if n > 0 {
            write = write.add(name, AttributeValue::N(n.to_string()));
        }
    }
    write
}

impl PartnersTable<'_> {
    /// Counts a batch of settled steps on their connections (both copies) and the day's buckets,
    /// each step once. Steps whose connection is gone are dropped (logged): nothing to count on.
    pub async fn count_figures(&self, events: &[FigureEvent]) -> Result<(), ApiError> {
        let connections = self.connection_copies(events).await?;
        let mut pending: Vec<FigureEvent> = events.iter().filter(|e| connections.contains_key(&(e.seller.clone(), e.connection_id.clone()))).cloned().collect();
        if pending.len() < events.len() {
            tracing::warn!(dropped = events.len() - pending.len(), "settled steps on connections that no longer exist: not counted");
        }
        while !pending.is_empty() {
            let chunk = fitting(&pending);
            let writes = figure_writes(&pending[..chunk], &connections)?;
            match self.db.transact(writes).await {
                Ok(()) => {
                    pending.drain(..chunk);
                }
                // A step of this chunk was counted before (the stream delivered it again): find
                // which, drop them, and count the rest.
                Err(TxError::Condition(Part::Counted)) => {
                    let counted: BTreeSet<Key> = self.db.get_many(&pending[..chunk].iter().map(marker).collect::<Vec<_>>()).await?.iter().filter_map(key_of).collect();
                    let before = pending.len();
                    let mut index = 0;
                    pending.retain(|e| {
                        index += 1;
                        index > chunk || !counted.contains(&marker(e))
                    });
                    if pending.len() == before {
                        return Err(ApiError::Internal("a step's count marker refused its write but is not stored".into()));
                    }
                }
                Err(TxError::Condition(part)) => return Err(ApiError::Internal(format!("counting figures: the {part:?} write's condition failed"))),
                Err(TxError::Busy) => return Err(busy()),
                Err(TxError::Other(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// The seller's copy of each connection the events count on, by (seller, connection): it
    /// names the buyer, whose copy is counted too.
    async fn connection_copies(&self, events: &[FigureEvent]) -> Result<BTreeMap<(Id, Id), Id>, ApiError> {
        let wanted: BTreeSet<(Id, Id)> = events.iter().map(|e| (e.seller.clone(), e.connection_id.clone())).collect();
        let keys: Vec<Key> = wanted.iter().map(|(seller, connection)| keys::connection(seller, connection)).collect();
        let mut copies = BTreeMap::new();
        for item in self.db.get_many(&keys).await? {
            let connection: Connection = keys::parse(item)?;
            copies.insert((connection.account_id.clone(), connection.id.clone()), connection.connected_account.id.clone());
        }
        Ok(copies)
    }
}

/// How many of `events` (from the first) one transaction holds: a marker each, and per
/// connection its two copies.
fn fitting(events: &[FigureEvent]) -> usize {
    let mut connections = BTreeSet::new();
    for (index, event) in events.iter().enumerate() {
        connections.insert((&event.seller, &event.connection_id));
        if index + 1 + 2 * connections.len() > MAX_TRANSACTION_ITEMS {
            return index.max(1);
        }
    }
    events.len()
}

/// The markers and connection totals that count `events`.
fn figure_writes(events: &[FigureEvent], buyers: &BTreeMap<(Id, Id), Id>) -> Result<Vec<Write>, ApiError> {
    let mut writes: Vec<Write> = events
        .iter()
        .map(|event| {
            let key = marker(event);
            let mut item = key.to_item();
            item.insert(keys::TYPE.into(), keys::string(ItemType::CountedStep.as_str()));
            item.insert(keys::TTL.into(), keys::expires_after(MARKER_TTL));
            Write::put(Part::Counted, key, item).only_if("attribute_not_exists(#pk)")
        })
        .collect();
    for ((seller, connection), tally) in tally(events) {
        let buyer = &buyers[&(seller.clone(), connection.clone())];
        for side in [&seller, buyer] {
            let mut total = add_counts(Write::update(Part::Connection, keys::connection(side, &connection)), &tally.total, ["leads_delivered", "leads_rejected", "leads_failed"]);
            if let Some(at) = &tally.last_at {
                total = total.set("last_delivery_at", keys::string(at.as_str()));
            }
            writes.push(total.only_if("attribute_exists(#pk)"));
        }
    }
    Ok(writes)
}

fn key_of(item: &Item) -> Option<Key> {
    match (item.get(keys::PK), item.get(keys::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(Key { pk: pk.clone(), sk: sk.clone() }),
        _ => None,
    }
}
