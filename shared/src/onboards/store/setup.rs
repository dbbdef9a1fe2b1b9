//! What the buyer delivery setup commits (`crate::onboards::buyer_setup` runs it): the buyer's
//! flow with the connection's two copies and the audit trail (the partners area's writes), in one
//! transaction; the seller's flows, each patched in place; then the onboard's outcome.

use aws_sdk_dynamodb::types::AttributeValue;

use super::OnboardsTable;
use crate::onboards::domain::buyer_setup::{FlowPatch, SetupPlan};
use crate::onboards::domain::flow::Flow;
use crate::onboards::domain::onboard::{OnboardStatus, SetupStatus};
use crate::partners::domain::Connection;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::time;
use crate::store::keys;
use crate::partners::domain::AuditAction;
use crate::store::partners::audit::Audit;
use crate::store::partners::connections::buyer_delivery_configured;
use crate::store::tx::{Part, TxError, UpdateError, Write, busy};

impl OnboardsTable<'_> {
    /// The account's flows among `ids`, in one BatchGetItem per hundred (absent ones are skipped).
    pub async fn flows_among(&self, account: &Id, ids: impl IntoIterator<Item = &Id>) -> Result<Vec<Flow>, ApiError> {
        let wanted: Vec<keys::Key> = ids.into_iter().map(|id| keys::flow(account, id)).collect();
        self.db.get_many(&wanted).await?.into_iter().map(keys::parse::<Flow>).collect()
    }

    /// Steps 4 and 6 of the setup in one transaction of fixed size — the buyer's flow, both copies
    /// of the connection, the audit — conditioned on the connection not being set up yet.
    /// `Ok(false)`: a concurrent change (someone else set it up or revoked it, the buyer's flow
    /// changed); read again. The seller's flows are patched after it (`patch_flow`).
    pub async fn commit_buyer_setup(&self, connection: &Connection, plan: &SetupPlan, actor: &str) -> Result<bool, ApiError> {
        let buyer = &connection.account_id;
        let seller = &connection.connected_account.id;
        let now = time::now();
        let buyer_flow = Write::put(Part::Flow, keys::flow(buyer, &plan.buyer_flow.id), keys::flow_item(buyer, &plan.buyer_flow)?);
        let mut writes = vec![match &plan.buyer_flow_previous {
            None => buyer_flow.only_if("attribute_not_exists(#pk)"),
            Some(old) => buyer_flow.only_if("#version = :version").value(":version", keys::value(&old.version)?),
        }];
        for owner in [buyer, seller] {
            writes.push(buyer_delivery_configured(owner, &connection.id, &plan.buyer_flow.id, &now)?);
        }
        let audit = Audit { event: AuditAction::ConnectionBuyerDeliveryConfigured, actor, subject_id: &connection.id, at: &now };
        writes.extend(audit.writes_for_both(buyer, Some(seller))?);
        match self.db.transact(writes).await {
            Ok(()) => Ok(true),
            Err(TxError::Condition(_)) => Ok(false),
            Err(TxError::Busy) => Err(busy()),
            Err(TxError::Other(e)) => Err(e),
        }
    }

    /// A seller flow's buyer steps (and sources) as `patch` says, in place: one UpdateItem that
    /// sets just those list elements, conditioned on each position still holding the same step or
    /// source, and bumps the version (so a seller's edit from before it is refused). Setups of
    /// other buyers patch other steps of the same flow without waiting for each other.
    /// `Ok(false)`: the flow was restructured (or deleted) meanwhile; read it again.
    pub async fn patch_flow(&self, owner: &Id, patch: &FlowPatch) -> Result<bool, ApiError> {
        let mut write = Write::update(Part::Flow, keys::flow(owner, &patch.flow_id)).set("updated_at", keys::string(time::now())).add("version", AttributeValue::N("1".into()));
        let mut conditions = vec!["attribute_exists(#pk)".to_string()];
        let elements = patch.steps.iter().map(|(i, s)| ("steps", *i, s.id.to_string(), keys::value(s))).chain(patch.sources.iter().map(|(i, s)| ("sources", *i, s.id.to_string(), keys::value(s))));
        for (list, index, id, value) in elements {
            write = write.set_element(list, index, value?).value(&format!(":{list}{index}_id"), keys::string(id));
            conditions.push(format!("#{list}[{index}].#id = :{list}{index}_id"));
        }
        match self.db.update_returning(write.only_if(&conditions.join(" AND "))).await {
            Ok(_) => Ok(true),
            Err(UpdateError::Condition(_)) => Ok(false),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// The setup succeeded: the onboard says where the buyer's flow is and leaves the index of
    /// unfinished setups. An onboard deleted meanwhile is left alone.
    pub async fn record_setup_succeeded(&self, account: &Id, onboard: &Id, redirect: &str) -> Result<(), ApiError> {
        let succeeded = Write::update(Part::Onboard, keys::onboard(account, onboard))
            .set("setup_status", keys::string(SetupStatus::Succeeded.as_str()))
            .set("redirect", keys::string(redirect))
            .remove(keys::GSI1_PK)
            .remove(keys::GSI1_SK)
            .set("setup_error", AttributeValue::Null(true))
            .set("updated_at", keys::string(time::now()))
            .add("version", AttributeValue::N("1".into()))
            .only_if("attribute_exists(#pk)");
        match self.db.update_returning(succeeded).await {
            Ok(_) | Err(UpdateError::Condition(_)) => Ok(()),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// A permanent failure, recorded on the onboard if it is still the completion that asked.
    pub async fn record_setup_failed(&self, account: &Id, onboard: &Id, details: String) -> Result<(), ApiError> {
        let failed = Write::update(Part::Onboard, keys::onboard(account, onboard))
            .set("status", keys::value(&OnboardStatus::Failed)?)
            .set("setup_status", keys::string(SetupStatus::Failed.as_str()))
            .set("setup_error", keys::string(details))
            .set("updated_at", keys::string(time::now()))
            .add("version", AttributeValue::N("1".into()))
            .only_if("#status = :completed OR #status = :completed_flows_sync")
            .value(":completed", keys::value(&OnboardStatus::Completed)?)
            .value(":completed_flows_sync", keys::value(&OnboardStatus::CompletedFlowsSync)?);
        match self.db.update_returning(failed).await {
            Ok(_) | Err(UpdateError::Condition(_)) => Ok(()),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }
}
