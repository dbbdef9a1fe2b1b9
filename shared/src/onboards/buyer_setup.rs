//! The buyer delivery setup, run by the buyer-setup Lambda (from the queue) and by
//! `POST /onboard/buyer`: read, plan (`domain::buyer_setup`), commit steps 3, 4 and 6 in one
//! transaction (`store::onboards::setup`), then notify the seller once and record the outcome on the onboard.

use std::time::{Duration, SystemTime};

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::onboards::domain::flow::{EntityRef, Flow};
use crate::onboards::domain::buyer_setup::{SetupPlan, SetupRequest, check_active, check_buyer, plan, seller_flow_patch};
use crate::partners::domain::Connection;
use crate::onboards::domain::email;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::mail::Mailer;
use crate::store::Db;
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

/// Why a setup did not complete, as its queue must treat it: each failure is classified where
/// it arises, not by its status.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The request cannot succeed as it stands (no such connection, not the buyer's, revoked, a
    /// flow that is not the account's, already set up when asked synchronously): recorded on the
    /// onboard, never retried.
    #[error("{0}")]
    Refused(ApiError),
    /// It may succeed later (the table or SES failed, changes kept racing, the process died):
    /// retried.
    #[error("{0}")]
    Interrupted(ApiError),
}

/// The table's and SES's failures interrupt a setup.
impl From<ApiError> for SetupError {
    fn from(err: ApiError) -> Self {
        SetupError::Interrupted(err)
    }
}

/// A rule's refusal is the request's own: it will refuse again. A broken invariant is ours, and
/// retried (then dead-lettered) rather than recorded as the buyer's failure.
impl From<domain::Refusal> for SetupError {
    fn from(refusal: domain::Refusal) -> Self {
        match refusal {
            domain::Refusal::Broken(_) => SetupError::Interrupted(refusal.into()),
            refusal => SetupError::Refused(refusal.into()),
        }
    }
}

impl From<SetupError> for ApiError {
    fn from(err: SetupError) -> Self {
        match err {
            SetupError::Refused(e) | SetupError::Interrupted(e) => e,
        }
    }
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

/// Seller flows patched at once (each one UpdateItem).
const PATCHES_AT_ONCE: usize = 25;
/// Reads and patches of one seller flow that is being restructured meanwhile.
const PATCH_ATTEMPTS: u32 = 5;

/// How long one worker may hold the right to send the seller email before another may retry.
const NOTIFY_LEASE: Duration = Duration::from_secs(60);

fn crashed(at: Crash) -> SetupError {
    SetupError::Interrupted(ApiError::Internal(format!("injected crash {at:?}")))
}

impl FromEnv for BuyerSetup {
    fn from_env(env: &Env) -> Result<BuyerSetup, ConfigError> {
        Ok(BuyerSetup { db: Db::from_env(env)?, mailer: Mailer::from_env(env)? })
    }
}

impl BuyerSetup {
    pub async fn run(&self, request: &SetupRequest, mode: Mode) -> Result<SetupDone, SetupError> {
        self.run_until(request, mode, None).await
    }

    /// `run`, stopping at `crash` (tests).
    pub async fn run_until(&self, request: &SetupRequest, mode: Mode, crash: Option<Crash>) -> Result<SetupDone, SetupError> {
        let db = &self.db;
        for _ in 0..3 {
            // Step 1: connection validation.
            let connection = db.partners().connection(&request.account_id, &request.connection_id).await?.ok_or(SetupError::Refused(ApiError::NotFound("connection")))?;
            check_buyer(&connection)?;
            if connection.buyer_delivery_configured {
                // Finish what an earlier run may have left (it may have died after committing),
                // then answer as the mode says.
                let done = self.finish(&connection, request, crash).await?;
                if mode == Mode::Sync {
                    return Err(SetupError::Refused(ApiError::BadRequest(format!("buyer delivery for connection {} is already set up", connection.id))));
                }
                return Ok(done);
            }
            check_active(&connection)?;
            let plan = self.plan(&connection, request).await?;
            if crash == Some(Crash::BeforeCommit) {
                return Err(crashed(Crash::BeforeCommit));
            }
            // Not committed: someone else set it up or revoked it, or a flow changed; read again.
            if db.onboards().commit_buyer_setup(&connection, &plan, &request.actor).await? {
                if crash == Some(Crash::AfterCommit) {
                    return Err(crashed(Crash::AfterCommit));
                }
                let configured = Connection { buyer_delivery_configured: true, buyer_flow_id: Some(plan.buyer_flow.id.clone()), ..connection };
                return self.finish(&configured, request, crash).await;
            }
        }
        Err(SetupError::Interrupted(ApiError::Conflict("the setup kept meeting concurrent changes; retry".into())))
    }

    /// Steps 2 to 4, read and planned: the buyer's side.
    async fn plan(&self, connection: &Connection, request: &SetupRequest) -> Result<SetupPlan, SetupError> {
        let (onboards, partners, accounts) = (self.db.onboards(), self.db.partners(), self.db.accounts());
        let buyer = &request.account_id;
        let requested = async {
            match &request.flow_id {
                Some(flow) => onboards.flow(buyer, flow).await,
                None => Ok(None),
            }
        };
        let (account, entity, requested) = tokio::join!(accounts.account(buyer), partners.entity(buyer, &connection.entity_id), requested);
        let account = account?.ok_or(SetupError::Refused(ApiError::NotFound("account")))?;
        let entity = entity?.ok_or_else(|| ApiError::Internal(format!("entity {} of connection {} missing", connection.entity_id, connection.id)))?;
        let requested = requested?;
        if let (Some(flow), None) = (&request.flow_id, &requested) {
            return Err(SetupError::Refused(ApiError::BadRequest(format!("flow {flow} is not one of this account's flows"))));
        }
        Ok(plan(&account, connection, &entity, requested, &time::now())?)
    }

    /// After the commit: the seller's buyer steps mapped to the buyer's flow, step 5 (the
    /// seller's users are told, once) and the onboard's outcome. Every part is idempotent, so a
    /// run that died after the commit is finished by the next.
    async fn finish(&self, connection: &Connection, request: &SetupRequest, crash: Option<Crash>) -> Result<SetupDone, SetupError> {
        let buyer_flow_id = connection.buyer_flow_id.clone().ok_or_else(|| ApiError::Internal(format!("connection {} has no buyer flow", connection.id)))?;
        let redirect = format!("/flows/{buyer_flow_id}");
        self.map_seller_flows(connection, &buyer_flow_id).await?;
        self.notify_seller(connection, &redirect, crash).await?;
        if let Some(onboard) = &request.onboard_id {
            self.db.onboards().record_setup_succeeded(&request.account_id, onboard, &redirect).await?;
        }
        Ok(SetupDone { buyer_flow_id, redirect })
    }

    /// Step 3: every seller flow delivering to the buyer maps its buyer steps to the buyer's
    /// flow, each flow patched in place (just those steps; no transaction, no version check that
    /// another buyer's setup of the same flow could fail), at most `PATCHES_AT_ONCE` at a time.
    /// However many flows: no limit of one transaction.
    async fn map_seller_flows(&self, connection: &Connection, buyer_flow: &Id) -> Result<(), SetupError> {
        let (onboards, partners, accounts) = (self.db.onboards(), self.db.partners(), self.db.accounts());
        let seller = &connection.connected_account.id;
        // Step 2: one Query on the buyer-step index of the seller's entity for this buyer. The
        // entity's name now (an invited address gives way to the account's name on acceptance)
        // is what the seller's steps show.
        let flows = async {
            let refs = onboards.flows_delivering_to(seller, &connection.partner_entity_id).await?;
            onboards.flows_among(seller, refs.iter().map(|r| &r.flow_id)).await
        };
        let (flows, seller_entity, buyer_account) = tokio::join!(flows, partners.entity(seller, &connection.partner_entity_id), accounts.account(&connection.account_id));
        let fallback = buyer_account?.map(|a| a.name).unwrap_or_default();
        let entity = seller_entity?.map_or_else(|| EntityRef { id: connection.partner_entity_id.clone(), name: fallback }, |e| EntityRef { id: e.id, name: e.name });
        let flows = flows?;
        for batch in flows.chunks(PATCHES_AT_ONCE) {
            futures_util::future::try_join_all(batch.iter().map(|flow| self.map_seller_flow(seller, flow.clone(), &entity, buyer_flow))).await?;
        }
        Ok(())
    }

    /// One seller flow's patch, read again and retried (with backoff) while the flow is being
    /// restructured under it.
    async fn map_seller_flow(&self, seller: &Id, mut flow: Flow, entity: &EntityRef, buyer_flow: &Id) -> Result<(), SetupError> {
        let onboards = self.db.onboards();
        for attempt in 1..=PATCH_ATTEMPTS {
            let Some(patch) = seller_flow_patch(&flow, entity, buyer_flow) else { return Ok(()) };
            if onboards.patch_flow(seller, &patch).await? {
                return Ok(());
            }
            tokio::time::sleep(crate::store::backoff(attempt)).await;
            match onboards.flow(seller, &flow.id).await? {
                Some(current) => flow = current,
                None => return Ok(()),
            }
        }
        Err(SetupError::Interrupted(ApiError::Unavailable(format!("seller flow {} kept changing during the setup", flow.id))))
    }

    /// Sends the seller email at most once per setup: a lease on the buyer's connection copy lets
    /// one worker send; `sellers_notified_at` marks it sent. A worker that died holding the lease
    /// is replaced when the lease expires (its message is redelivered after that).
    async fn notify_seller(&self, connection: &Connection, redirect: &str, crash: Option<Crash>) -> Result<(), SetupError> {
        let partners = self.db.partners();
        if !partners.take_notify_lease(connection, &time::format(SystemTime::now() + NOTIFY_LEASE)).await? {
            // Already sent, or another worker is sending now.
            return Ok(());
        }
        let seller = &connection.connected_account.id;
        let recipients = self.db.accounts().account_user_emails(seller).await?;
        if !recipients.is_empty() {
            let onboards = self.db.onboards();
            let refs = onboards.flows_delivering_to(seller, &connection.partner_entity_id).await?;
            let mut names: Vec<String> = onboards.flows_among(seller, refs.iter().map(|r| &r.flow_id)).await?.into_iter().map(|f| f.name).collect();
            names.sort();
            names.dedup();
            let buyer = self.db.accounts().account(&connection.account_id).await?.map(|a| a.name).unwrap_or_default();
            self.mailer.send(&email::buyer_connected(recipients, &buyer, &names, redirect)).await?;
        }
        if crash == Some(Crash::AfterEmail) {
            return Err(crashed(Crash::AfterEmail));
        }
        Ok(partners.mark_sellers_notified(connection).await?)
    }

    /// A permanent failure, recorded on the onboard (if it is still the completion that asked).
    pub async fn record_failure(&self, request: &SetupRequest, error: &ApiError) -> Result<(), ApiError> {
        match &request.onboard_id {
            Some(onboard) => self.db.onboards().record_setup_failed(&request.account_id, onboard, error.details()).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_final_and_failures_of_the_platform_are_retried() {
        let refused = SetupError::from(domain::Refusal::NotAllowed("not the buyer".into()));
        assert_eq!(refused, SetupError::Refused(ApiError::Forbidden("not the buyer".into())));
        assert!(matches!(SetupError::from(domain::Refusal::Malformed("revoked".into())), SetupError::Refused(_)));
        assert!(matches!(SetupError::from(domain::Refusal::Broken("entity missing".into())), SetupError::Interrupted(_)), "our fault: retried");
        assert!(matches!(SetupError::from(ApiError::Internal("throttled".into())), SetupError::Interrupted(_)));
        assert_eq!(ApiError::from(refused), ApiError::Forbidden("not the buyer".into()), "the synchronous caller sees the error itself");
    }
}
