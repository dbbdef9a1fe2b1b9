//! Onboards: one per accepted invitation; updates are single conditional writes.

use aws_sdk_dynamodb::types::AttributeValue;

use super::OnboardsTable;
use crate::store::tx::{Part, TxError, UpdateError, Write, busy};
use crate::platform::accounts::Caller;
use crate::onboards::domain::onboard::{Onboard, OnboardStatus, OnboardUpdate, Precondition, SetupStatus, not_updated};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::store::lists::{Page, PageRequest};
use crate::platform::time;

/// The check that an onboard exists, for another area's transaction that names one.
pub(in crate::store) fn onboard_exists(account: &Id, onboard: &Id) -> Write {
    Write::check(Part::Onboard, keys::onboard(account, onboard)).only_if("attribute_exists(#pk)")
}

#[derive(serde::Serialize)]
struct OnboardGuard<'a> {
    onboard_id: &'a Id,
}

impl OnboardsTable<'_> {
    /// The account's onboards, newest first.
    pub async fn onboards(&self, account: &Id, page: &PageRequest) -> Result<Page<Onboard>, ApiError> {
        self.db.list(account, prefix::ONBOARD, page, None).await
    }

    pub async fn onboard(&self, account: &Id, id: &Id) -> Result<Option<Onboard>, ApiError> {
        self.db.get_as(&keys::onboard(account, id)).await
    }

    /// The onboard of the invitation that created `connection`, if the buyer made one.
    pub async fn onboard_of_connection(&self, account: &Id, connection: &Id) -> Result<Option<Id>, ApiError> {
        let Some(connection) = self.db.partners().connection_by_id(account, connection).await? else { return Ok(None) };
        self.onboard_id_of_invitation(account, &connection.invitation_id).await
    }

    /// Every completed onboard whose setup has not succeeded (pending, or failed), completed
    /// before `before`, oldest first, across accounts: one Query of the sparse index.
    pub async fn unfinished_setups(&self, before: &str) -> Result<Vec<Onboard>, ApiError> {
        let items = self.db.query_all(Some(keys::GSI1), (keys::GSI1_PK, keys::GSI1_SK), keys::UNFINISHED_SETUPS.to_string(), "#sk < :before", &[(":before", before.to_string())]).await?;
        items.into_iter().map(keys::parse).collect()
    }

    /// An operator's re-run of an unfinished setup. A failed onboard is completed again, which
    /// the table's stream hands to the buyer setup (`true`); a pending one is returned as it is,
    /// for its setup request to be queued again (`false`). A setup that succeeded is a 409.
    pub async fn restart_setup(&self, account: &Id, id: &Id) -> Result<(Onboard, bool), ApiError> {
        let onboard = self.onboard(account, id).await?.ok_or(ApiError::NotFound("onboard"))?;
        match (onboard.status, onboard.setup_status) {
            (_, Some(SetupStatus::Succeeded)) => Err(ApiError::Conflict(format!("onboard {id}'s setup already succeeded"))),
            (OnboardStatus::Failed, _) => {
                let now = time::now();
                let mut write = Write::update(Part::Onboard, keys::onboard(account, id))
                    .set("status", keys::value(&OnboardStatus::Completed)?)
                    .set("setup_status", keys::string(SetupStatus::Pending.as_str()))
                    .set("setup_error", AttributeValue::Null(true))
                    .set("updated_at", keys::string(now.as_str()))
                    .add("version", AttributeValue::N("1".into()));
                for (name, value) in keys::unfinished_setup_index(&now, account, id) {
                    write = write.set(&name, value);
                }
                let write = write.only_if("#status = :failed").value(":failed", keys::value(&OnboardStatus::Failed)?);
                match self.db.update_returning(write).await {
                    Ok(item) => Ok((keys::parse(item)?, true)),
                    Err(UpdateError::Other(e)) => Err(e),
                    Err(UpdateError::Condition(_)) => Err(not_updated("it was changed by another request".into()).into()),
                }
            }
            (status, _) if status.is_completion() => Ok((onboard, false)),
            (status, _) => Err(ApiError::Conflict(format!("onboard {id} is {}: the buyer has not completed it", status.as_str()))),
        }
    }

    /// The onboard made for `invitation`, if any (there is at most one).
    pub async fn onboard_of_invitation(&self, account: &Id, invitation: &Id) -> Result<Option<Onboard>, ApiError> {
        match self.onboard_id_of_invitation(account, invitation).await? {
            Some(id) => self.onboard(account, &id).await,
            None => Ok(None),
        }
    }

    /// From the guard that keeps an invitation to one onboard.
    async fn onboard_id_of_invitation(&self, account: &Id, invitation: &Id) -> Result<Option<Id>, ApiError> {
        let guard = self.db.get(&keys::onboard_of_invitation(account, invitation)).await?;
        Ok(guard.and_then(|g| g.get("onboard_id").and_then(|v| v.as_s().ok()).and_then(|s| Id::parse(s))))
    }

    /// A flow id the caller names must be one of its own flows (400 otherwise: seed 000 lists
    /// no 404 for these requests).
    async fn check_own_flow(&self, account: &Id, flow: &Id) -> Result<(), ApiError> {
        match self.db.get(&keys::flow(account, flow)).await? {
            Some(_) => Ok(()),
            None => Err(ApiError::BadRequest(format!("flow {flow} is not one of this account's flows"))),
        }
    }

    /// An onboard for one of the caller's accepted invitations; exactly one per invitation, even
    /// when two requests race (the second gets a 400, as the seed says).
    pub async fn create_onboard(&self, caller: &Caller, invitation_id: &Id, flow_id: Option<Id>) -> Result<Onboard, ApiError> {
        let invitation = self
            .db.partners().invitation(&caller.account_id, invitation_id)
            .await?
            .ok_or(ApiError::NotFound("invitation"))?;
        if !invitation.holder_buys() {
            return Err(ApiError::Forbidden(format!("only the buying side onboards: this account sells to its partner on invitation {invitation_id}")));
        }
        let connection_id = invitation.accepted_connection()?.clone();
        if let Some(flow) = &flow_id {
            self.check_own_flow(&caller.account_id, flow).await?;
        }
        let now = time::now();
        let onboard = Onboard {
            id: Id::generate(),
            account_id: caller.account_id.clone(),
            invitation_id: invitation_id.clone(),
            connection_id,
            flow_id,
            status: OnboardStatus::Created,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
            setup_status: None,
            setup_error: None,
            redirect: None,
        };
        let key = keys::onboard(&caller.account_id, &onboard.id);
        let guard = keys::onboard_of_invitation(&caller.account_id, invitation_id);
        let writes = vec![
            Write::put(Part::Onboard, key.clone(), keys::item(&key, ItemType::Onboard, &onboard)?).only_if("attribute_not_exists(#pk)"),
            Write::put(Part::Guard, guard.clone(), keys::item(&guard, ItemType::OnboardGuard, &OnboardGuard { onboard_id: &onboard.id })?)
                .only_if("attribute_not_exists(#pk)"),
        ];
        self.db.transact(writes).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::BadRequest(format!("an onboard already exists for invitation {invitation_id}")),
        })?;
        Ok(onboard)
    }

    /// Applies a PUT in one conditional UpdateItem whose condition is the update's
    /// preconditions; `Onboard::check_update` explains a refusal from the item as it was.
    pub async fn update_onboard(&self, caller: &Caller, id: &Id, update: &OnboardUpdate) -> Result<Onboard, ApiError> {
        if update.account_id.as_ref().is_some_and(|a| *a != caller.account_id) {
            return Err(ApiError::Conflict("account_id does not match the onboard's account".into()));
        }
        // A flow the onboard already has needs no check; a new one is verified first (below).
        let mut flow_checked = false;
        loop {
            let write = self.onboard_write(caller, id, update, !flow_checked)?;
            match self.db.update_returning(write).await {
                Ok(item) => return keys::parse(item),
                Err(UpdateError::Other(e)) => return Err(e),
                Err(UpdateError::Condition(None)) => return Err(ApiError::NotFound("onboard")),
                Err(UpdateError::Condition(Some(item))) => {
                    let current: Onboard = keys::parse(item)?;
                    current.check_update(update)?;
                    match &update.flow_id {
                        Some(flow) if !flow_checked && current.flow_id.as_ref() != Some(flow) => {
                            self.check_own_flow(&caller.account_id, flow).await?;
                            flow_checked = true;
                        }
                        // The rules pass on what we read, so it changed in between: a lost race.
                        _ => return Err(not_updated("it was changed by another request".into()).into()),
                    }
                }
            }
        }
    }

    fn onboard_write(&self, caller: &Caller, id: &Id, update: &OnboardUpdate, flow_unchanged: bool) -> Result<Write, ApiError> {
        let now = time::now();
        let mut conditions = vec!["attribute_exists(#pk)".to_string()];
        let mut write = Write::update(Part::Onboard, keys::onboard(&caller.account_id, id))
            .set("updated_at", keys::string(now.as_str()))
            .add("version", AttributeValue::N("1".into()));
        for precondition in update.preconditions() {
            let (condition, values) = match precondition {
                Precondition::Invitation(id) => ("#invitation_id = :invitation_id".to_string(), vec![(":invitation_id".to_string(), keys::value(&id)?)]),
                Precondition::Connection(id) => ("#connection_id = :connection_id".to_string(), vec![(":connection_id".to_string(), keys::value(&id)?)]),
                Precondition::Version(version) => ("#version = :version".to_string(), vec![(":version".to_string(), AttributeValue::N(version.to_string()))]),
                Precondition::StatusIn(allowed) => {
                    let values = allowed.iter().enumerate().map(|(i, from)| Ok((format!(":from{i}"), keys::value(from)?))).collect::<Result<Vec<_>, ApiError>>()?;
                    let placeholders: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
                    (format!("#status IN ({})", placeholders.join(", ")), values)
                }
            };
            conditions.push(condition);
            for (placeholder, value) in values {
                write = write.value(&placeholder, value);
            }
        }
        if let Some(flow) = &update.flow_id {
            // A flow the onboard already has needs no check of its own (see `update_onboard`).
            if flow_unchanged {
                conditions.push("#flow_id = :flow_id".into());
                write = write.value(":flow_id", keys::value(flow)?);
            }
            write = write.set("flow_id", keys::value(flow)?);
        }
        if let Some(status) = update.status {
            write = write.set("status", keys::value(&status)?);
            if status.is_completion() {
                // Where the buyer setup (the stream consumer) picks it up; listed as unfinished
                // until it succeeds.
                write = write.set("setup_status", keys::string(SetupStatus::Pending.as_str()));
                for (name, value) in keys::unfinished_setup_index(&now, &caller.account_id, id) {
                    write = write.set(&name, value);
                }
            } else {
                write = write.remove(keys::GSI1_PK).remove(keys::GSI1_SK);
            }
        }
        let condition = conditions.join(" AND ");
        Ok(write.only_if(&condition))
    }
}
