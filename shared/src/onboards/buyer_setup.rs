//! The buyer delivery setup, run by the buyer-setup Lambda (from the queue) and by
//! `POST /onboard/buyer`: read, plan (`domain::buyer_setup`), commit steps 3, 4 and 6 in one
//! transaction, then notify the seller once and record the outcome on the onboard.

use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::onboards::domain::flow::{EntityRef, Flow};
use crate::onboards::domain::onboard::{OnboardStatus, SetupStatus};
use crate::onboards::domain::buyer_setup::{SetupPlan, SetupRequest, check_active, check_buyer, plan};
use crate::platform::accounts::Account;
use crate::partners::domain::{Connection, ConnectionStatus, Entity};
use crate::onboards::domain::email;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::store::keys;
use crate::platform::mail::Mailer;
use crate::platform::store::Db;
use crate::partners::store::audit::Audit;
use crate::platform::store::tx::{TxError, UpdateError, Write};
use crate::platform::time;


#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST /onboard/buyer`: a setup that is already complete is the caller's 400 (after
    /// finishing anything an interrupted earlier run left undone).
    Sync,
    /// The queue: a setup already complete (a redelivered message, a concurrent setup) just
    /// finishes what may be left: the email and the onboard's outcome.
    Async,
}

/// Where a test makes the setup stop as if the process died there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    BeforeCommit,
    AfterCommit,
    AfterEmail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupDone {
    pub buyer_flow_id: Id,
    pub redirect: String,
}

/// The table and SES: everything the setup touches.
pub struct BuyerSetup {
    pub db: Db,
    pub mailer: Mailer,
}

/// How long one worker may hold the right to send the seller email before another may retry.
const NOTIFY_LEASE: Duration = Duration::from_secs(60);

fn crashed(at: Crash) -> ApiError {
    ApiError::Internal(format!("injected crash {at:?}"))
}

impl FromEnv for BuyerSetup {
    fn from_env(env: &Env) -> Result<BuyerSetup, ConfigError> {
        Ok(BuyerSetup { db: Db::from_env(env)?, mailer: Mailer::from_env(env)? })
    }
}

impl BuyerSetup {
    pub async fn run(&self, request: &SetupRequest, mode: Mode) -> Result<SetupDone, ApiError> {
        self.run_until(request, mode, None).await
    }

    /// `run`, stopping at `crash` (tests).
    pub async fn run_until(&self, request: &SetupRequest, mode: Mode, crash: Option<Crash>) -> Result<SetupDone, ApiError> {
        let db = &self.db;
        for _ in 0..3 {
            // Step 1: connection validation.
            let connection: Connection = db
                .get_as(&keys::connection(&request.account_id, &request.connection_id))
                .await?
                .ok_or(ApiError::NotFound("connection"))?;
            check_buyer(&connection)?;
            if connection.buyer_delivery_configured {
                // Finish what an earlier run may have left (it may have died after committing),
                // then answer as the mode says.
                let done = self.finish(&connection, request, crash).await?;
                if mode == Mode::Sync {
                    return Err(ApiError::BadRequest(format!("buyer delivery for connection {} is already set up", connection.id)));
                }
                return Ok(done);
            }
            check_active(&connection)?;
            let plan = self.plan(&connection, request).await?;
            if crash == Some(Crash::BeforeCommit) {
                return Err(crashed(Crash::BeforeCommit));
            }
            match self.commit(&connection, &plan, &request.actor).await {
                Ok(()) => {
                    if crash == Some(Crash::AfterCommit) {
                        return Err(crashed(Crash::AfterCommit));
                    }
                    let configured = Connection { buyer_delivery_configured: true, buyer_flow_id: Some(plan.buyer_flow.id.clone()), ..connection };
                    return self.finish(&configured, request, crash).await;
                }
                // Someone else set it up or revoked it, or a flow changed: read again.
                Err(TxError::Condition(_) | TxError::Conflict) => continue,
                Err(TxError::Other(e)) => return Err(e),
            }
        }
        Err(ApiError::Conflict("the setup kept meeting concurrent changes; retry".into()))
    }

    /// Steps 2 to 4, read and planned.
    async fn plan(&self, connection: &Connection, request: &SetupRequest) -> Result<SetupPlan, ApiError> {
        let db = &self.db;
        let buyer = &request.account_id;
        let seller = &connection.connected_account.id;
        // Step 2: one Query on the buyer-step index of the seller's entity for this buyer.
        let refs = db.onboards().flows_delivering_to(seller, &connection.partner_entity_id).await?;
        let flow_keys = refs.iter().map(|r| keys::flow(seller, &r.flow_id));
        // The seller's entity for the buyer too: its name now (an invited address gives way to
        // the account's name on acceptance) is what the seller's steps show.
        let mut wanted = vec![keys::account(buyer), keys::entity(buyer, &connection.entity_id), keys::entity(seller, &connection.partner_entity_id)];
        if let Some(flow) = &request.flow_id {
            wanted.push(keys::flow(buyer, flow));
        }
        wanted.extend(flow_keys);
        let items = db.get_many(&wanted).await?;
        let (mut account, mut entity, mut seller_entity, mut requested, mut seller_flows) = (None, None, None, None, vec![]);
        for item in items {
            let pk = item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match item.get(keys::TYPE).and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some("account") => account = Some(keys::parse::<Account>(item)?),
                Some("entity") if pk == keys::account_partition(buyer) => entity = Some(keys::parse::<Entity>(item)?),
                Some("entity") => seller_entity = Some(keys::parse::<Entity>(item)?),
                Some("flow") if pk == keys::account_partition(buyer) => requested = Some(keys::parse::<Flow>(item)?),
                Some("flow") => seller_flows.push(keys::parse::<Flow>(item)?),
                _ => {}
            }
        }
        let account = account.ok_or(ApiError::NotFound("account"))?;
        let entity = entity.ok_or_else(|| ApiError::Internal(format!("entity {} of connection {} missing", connection.entity_id, connection.id)))?;
        if let (Some(flow), None) = (&request.flow_id, &requested) {
            return Err(ApiError::BadRequest(format!("flow {flow} is not one of this account's flows")));
        }
        let seller_entity = seller_entity.map_or_else(|| EntityRef { id: connection.partner_entity_id.clone(), name: account.name.clone() }, |e| EntityRef { id: e.id, name: e.name });
        plan(&account, connection, &entity, requested, seller_flows, &seller_entity, &time::now())
    }

    /// Steps 3, 4 and 6 in one transaction, conditioned on the connection not being set up yet and
    /// on every flow still being the version that was planned from.
    async fn commit(&self, connection: &Connection, plan: &SetupPlan, actor: &str) -> Result<(), TxError> {
        let buyer = &connection.account_id;
        let seller = &connection.connected_account.id;
        let now = time::now();
        let buyer_flow = Write::put("flow", keys::flow(buyer, &plan.buyer_flow.id), keys::flow_item(buyer, &plan.buyer_flow)?);
        let mut writes = vec![match &plan.buyer_flow_previous {
            None => buyer_flow.only_if("attribute_not_exists(#pk)"),
            Some(old) => buyer_flow.only_if("#version = :version").value(":version", keys::value(&old.version)?),
        }];
        for (version, flow) in &plan.seller_flows {
            let key = keys::flow(seller, &flow.id);
            writes.push(
                Write::put("seller_flow", key, keys::flow_item(seller, flow)?)
                    .only_if("#version = :version")
                    .value(":version", keys::value(version)?),
            );
        }
        for owner in [buyer, seller] {
            writes.push(
                Write::update("connection", keys::connection(owner, &connection.id))
                    .set("buyer_delivery_configured", AttributeValue::Bool(true))
                    .set("buyer_delivery_configured_at", keys::string(now.as_str()))
                    .set("buyer_flow_id", keys::value(&plan.buyer_flow.id)?)
                    .set("updated_at", keys::string(now.as_str()))
                    .only_if("#status = :active AND #buyer_delivery_configured = :false")
                    .value(":active", keys::value(&ConnectionStatus::Active)?)
                    .value(":false", AttributeValue::Bool(false)),
            );
        }
        let audit = Audit { event: "connection.buyer_delivery_configured", actor, subject_type: "connection", subject_id: &connection.id, at: &now };
        writes.extend(audit.writes_for_both(buyer, Some(seller))?);
        self.db.transact(writes).await
    }

    /// After the commit: step 5 (the seller's users are told, once) and the onboard's outcome.
    async fn finish(&self, connection: &Connection, request: &SetupRequest, crash: Option<Crash>) -> Result<SetupDone, ApiError> {
        let buyer_flow_id = connection.buyer_flow_id.clone().ok_or_else(|| ApiError::Internal(format!("connection {} has no buyer flow", connection.id)))?;
        let redirect = format!("/flows/{buyer_flow_id}");
        self.notify_seller(connection, &redirect, crash).await?;
        if let Some(onboard) = &request.onboard_id {
            let succeeded = Write::update("onboard", keys::onboard(&request.account_id, onboard))
                .set("setup_status", keys::string(SetupStatus::Succeeded.as_str()))
                .set("redirect", keys::string(redirect.as_str()))
                .remove(keys::GSI1_PK)
                .remove(keys::GSI1_SK)
                .set("setup_error", AttributeValue::Null(true))
                .set("updated_at", keys::string(time::now()))
                .add("version", AttributeValue::N("1".into()))
                .only_if("attribute_exists(#pk)");
            match self.db.update_returning(succeeded).await {
                Ok(_) | Err(UpdateError::Condition(_)) => {}
                Err(UpdateError::Other(e)) => return Err(e),
            }
        }
        Ok(SetupDone { buyer_flow_id, redirect })
    }

    /// Sends the seller email at most once per setup: a lease on the buyer's connection copy lets
    /// one worker send; `sellers_notified_at` marks it sent. A worker that died holding the lease
    /// is replaced when the lease expires (its message is redelivered after that).
    async fn notify_seller(&self, connection: &Connection, redirect: &str, crash: Option<Crash>) -> Result<(), ApiError> {
        let key = keys::connection(&connection.account_id, &connection.id);
        let now = time::now();
        let lease = Write::update("connection", key.clone())
            .set("notify_lease_until", keys::string(time::format(SystemTime::now() + NOTIFY_LEASE)))
            .only_if("attribute_not_exists(#sellers_notified_at) AND (attribute_not_exists(#notify_lease_until) OR #notify_lease_until < :now)")
            .value(":now", keys::string(now.as_str()));
        match self.db.update_returning(lease).await {
            Ok(_) => {}
            // Already sent, or another worker is sending now.
            Err(UpdateError::Condition(_)) => return Ok(()),
            Err(UpdateError::Other(e)) => return Err(e),
        }
        let seller = &connection.connected_account.id;
        let recipients = self.db.accounts().account_user_emails(seller).await?;
        if !recipients.is_empty() {
            let refs = self.db.onboards().flows_delivering_to(seller, &connection.partner_entity_id).await?;
            let flow_keys: Vec<keys::Key> = refs.iter().map(|r| keys::flow(seller, &r.flow_id)).collect();
            let mut names: Vec<String> = self.db.get_many(&flow_keys).await?.into_iter().map(keys::parse::<Flow>).map(|f| f.map(|f| f.name)).collect::<Result<_, _>>()?;
            names.sort();
            names.dedup();
            let buyer = self.db.accounts().account(&connection.account_id).await?.map(|a| a.name).unwrap_or_default();
            self.mailer.send(&email::buyer_connected(recipients, &buyer, &names, redirect)).await?;
        }
        if crash == Some(Crash::AfterEmail) {
            return Err(crashed(Crash::AfterEmail));
        }
        let sent = Write::update("connection", key).set("sellers_notified_at", keys::string(time::now()));
        self.db.update_returning(sent).await.map_err(|e| match e {
            UpdateError::Other(e) => e,
            UpdateError::Condition(_) => ApiError::Internal("unconditional update failed its condition".into()),
        })?;
        Ok(())
    }

    /// A permanent failure, recorded on the onboard (if it is still the completion that asked).
    pub async fn record_failure(&self, request: &SetupRequest, error: &ApiError) -> Result<(), ApiError> {
        let Some(onboard) = &request.onboard_id else { return Ok(()) };
        let failed = Write::update("onboard", keys::onboard(&request.account_id, onboard))
            .set("status", keys::value(&OnboardStatus::Failed)?)
            .set("setup_status", keys::string(SetupStatus::Failed.as_str()))
            .set("setup_error", keys::string(error.details()))
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

/// Failures the queue should not retry: the request itself cannot succeed.
pub fn is_permanent(error: &ApiError) -> bool {
    error.status().is_client_error() && !matches!(error, ApiError::Conflict(_))
}
