//! What the lead functions are built with: submitting (who may submit as which source), the
//! submission documents, and delivering a lead's buyer steps.

use std::time::Duration;

use crate::leads::domain::docs::{SubmissionDocs, SubmissionFlow, flows_for_source, submission_docs};
use crate::partners::domain::{AccountRef, Connection};
use crate::leads::domain::delivery::{BuyerSide, plan_delivery};
use crate::leads::domain::lead::{DELIVERY_BUDGET, Fields, Lead, LeadMessage, Origin, Submission, may_submit};
use crate::onboards::domain::flow::{Flow, MAX_STEPS, Source};
use crate::platform::accounts::Plan;
use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::Db;
use crate::platform::time;

pub struct Leads {
    pub db: Db,
    /// How long a lead is kept (`LEAD_RETENTION_DAYS`, default 90).
    pub retention: Duration,
}

pub const DEFAULT_RETENTION_DAYS: u64 = 90;

impl FromEnv for Leads {
    fn from_env(env: &Env) -> Result<Leads, ConfigError> {
        let days = match env.optional("LEAD_RETENTION_DAYS") {
            Some(raw) => raw.parse::<u64>().ok().filter(|d| *d > 0).ok_or(ConfigError::Invalid("LEAD_RETENTION_DAYS", "a whole number of days"))?,
            None => DEFAULT_RETENTION_DAYS,
        };
        Ok(Leads { db: Db::from_env(env)?, retention: Duration::from_secs(days * 86_400) })
    }
}

/// A flow a caller may submit to, as one of its sources.
pub struct SourceAccess {
    pub owner: Id,
    /// The owner is on the paid plan: its flow's acceptance criteria apply.
    pub owner_paid: bool,
    pub flow: Flow,
    pub source: Source,
    /// A connected source's account and connection: where its leads come from.
    pub origin: Option<Origin>,
}

/// What a connected source may send to one partner (`Leads::submission_flows`).
#[derive(Debug, serde::Serialize)]
pub struct SubmissionFlows {
    pub connection_id: Id,
    pub partner: AccountRef,
    pub flows: Vec<SubmissionFlow>,
}

impl Leads {
    /// The flow and source `caller` may submit as. Anything else (no such flow or source, another
    /// account's, a revoked connection) is the same 404, so a caller learns nothing of flows it
    /// may not use.
    pub async fn source_for(&self, caller: &Id, flow_id: &Id, source_id: &Id) -> Result<SourceAccess, ApiError> {
        let (owner, flow) = self.db.onboards().flow_by_id(flow_id).await?.ok_or(ApiError::NotFound("flow"))?;
        let source = flow.sources.iter().find(|s| &s.id == source_id).cloned().ok_or(ApiError::NotFound("flow"))?;
        let (partners, accounts) = (self.db.partners(), self.db.accounts());
        let (entity, account) = tokio::join!(async { if caller == &owner { Ok(None) } else { partners.entity(&owner, &source.entity.id).await } }, accounts.account(&owner));
        let entity = entity?;
        if !may_submit(caller, &owner, entity.as_ref()) {
            return Err(ApiError::NotFound("flow"));
        }
        // The flow keeps the name the partner had when it was added (an invited address, say).
        let mut source = source;
        let mut origin = None;
        if let Some(entity) = entity {
            source.entity.name = entity.name;
            origin = entity.connection_id.map(|connection_id| Origin { account_id: caller.clone(), connection_id });
        }
        Ok(SourceAccess { owner_paid: account?.is_some_and(|a| a.plan == Plan::Paid), owner, flow, source, origin })
    }

    /// A submission: the lead the flow makes of it (accepted or rejected), not yet stored, so
    /// that its receipt can be kept with it (`store`).
    pub async fn receive(&self, caller: &Id, flow_id: &Id, source_id: &Id, fields: Fields) -> Result<Lead, ApiError> {
        let access = self.source_for(caller, flow_id, source_id).await?;
        let submission = Submission { flow: &access.flow, source: &access.source, submitted_by: caller.clone(), fields, enforce_criteria: access.owner_paid, hops: 0, budget: DELIVERY_BUDGET, origin: access.origin };
        Ok(Lead::receive(submission, access.owner, Id::generate(), &time::now(), time::from_now(self.retention)))
    }

    /// Stores a received lead (its delivery starts from the table's stream).
    pub async fn store(&self, lead: &Lead) -> Result<(), ApiError> {
        self.db.leads().store(lead).await
    }

    /// What `caller` needs to submit as the source; `api_origin` is the API's configured origin.
    pub async fn docs(&self, caller: &Id, flow_id: &Id, source_id: &Id, api_origin: &str) -> Result<SubmissionDocs, ApiError> {
        let mut access = self.source_for(caller, flow_id, source_id).await?;
        // Criteria that do not apply (the owner is not on the paid plan) are not documented.
        if !access.owner_paid {
            access.flow.acceptance_criteria = None;
        }
        Ok(submission_docs(&access.flow, &access.source, api_origin))
    }

    /// The flows of the partner on `caller`'s connection `connection` that `caller` may send
    /// leads to, with their documents' links. Empty when the partner does not take leads from
    /// the caller (a buyer-only connection, a revoked one) or has not opened a flow to it yet.
    pub async fn submission_flows(&self, caller: &Id, connection: &Id, api_origin: &str) -> Result<SubmissionFlows, ApiError> {
        let connection = self.db.partners().connection(caller, connection).await?.ok_or(ApiError::NotFound("connection"))?;
        self.flows_on(connection, api_origin).await
    }

    /// `submission_flows` for a connection copy already read (its owner is the source).
    pub async fn flows_on(&self, connection: Connection, api_origin: &str) -> Result<SubmissionFlows, ApiError> {
        let (caller, owner) = (&connection.account_id, &connection.connected_account.id);
        let entity = self.db.partners().entity(owner, &connection.partner_entity_id).await?;
        let flows = match entity.filter(|e| may_submit(caller, owner, Some(e))) {
            Some(entity) => flows_for_source(&self.db.onboards().all_flows(owner).await?, &entity, api_origin),
            None => vec![],
        };
        Ok(SubmissionFlows { connection_id: connection.id, partner: connection.connected_account, flows })
    }

    /// Delivers the lead's pending buyer steps in order, each settled once. `Err`: try again
    /// later (nothing half-done stays: each step settles in one transaction).
    pub async fn deliver(&self, message: &LeadMessage) -> Result<(), ApiError> {
        let leads = self.db.leads();
        // Each round settles one step or loses it to a concurrent delivery and reads again.
        for _ in 0..2 * MAX_STEPS + 2 {
            let Some(lead) = leads.lead_in_flow(&message.account_id, &message.flow_id, &message.lead_id).await? else { return Ok(()) };
            let Some((index, step)) = lead.pending_steps().next() else { return Ok(()) };
            let seller = &lead.account_id;
            let entity = self.db.partners().entity(seller, &step.entity.id).await?;
            let step = &step.named_as(entity.as_ref());
            // A revoked entity names the connection it had, so that the failure is counted there.
            let connection = match entity.as_ref().and_then(|e| e.connection_id.as_ref().or(e.former_connection_id.as_ref())) {
                Some(id) => self.db.partners().connection(seller, id).await?,
                None => None,
            };
            let (flow, account) = match (&connection, &step.buyer_flow_id) {
                (Some(c), Some(flow_id)) => {
                    let buyer = &c.connected_account.id;
                    let (onboards, accounts) = (self.db.onboards(), self.db.accounts());
                    let (flow, account) = tokio::join!(onboards.flow(buyer, flow_id), accounts.account(buyer));
                    (flow?, account?)
                }
                _ => (None, None),
            };
            let buyer = BuyerSide { entity: entity.as_ref(), connection: connection.as_ref(), flow: flow.as_ref(), paid: account.is_some_and(|a| a.plan == Plan::Paid) };
            let now = time::now();
            let delivery = plan_delivery(&lead, step, buyer, Id::generate(), &now);
            let settled = delivery.settled(step, &now, connection.as_ref().map(|c| &c.id));
            if leads.settle(&lead, index, &settled, &delivery).await? {
                tracing::info!(lead = %lead.id, step = %step.step_id, outcome = ?settled.outcome, reason = settled.reason.as_deref().unwrap_or(""), "lead step settled");
            }
        }
        Err(ApiError::Conflict(format!("lead {} kept meeting concurrent changes", message.lead_id)))
    }
}
