//! Accepting an invitation: with the invited account's API key, or through the emailed link
//! (`partners::acceptance` decides who accepts for whom). One transaction writes the connection
//! (both sides), both entities, the partner records (one connection per pair of accounts), both
//! invitation copies and the audit trail.

use aws_sdk_dynamodb::types::AttributeValue;

use super::PartnersTable;
use super::invitations::copies_put;
use crate::partners::domain::acceptance::{Acceptance, Accepter, Claimant, accepter, link_actor};
use crate::partners::domain::invitation::{Direction, Invitation, InvitationStatus, Invitee, Side};
use crate::partners::domain::{AccountRef, AuditAction, Connection};
use crate::platform::accounts::Caller;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::time::{self, Timestamp};
use crate::store::accounts::NewAccount;
use crate::store::keys::{self, ItemType};
use crate::store::partners::audit::Audit;
use crate::store::tx::{Part, TxError, Write, busy};

#[derive(Debug)]
pub struct Accepted {
    /// The accepting side's view of the new connection.
    pub connection: Connection,
    pub invitation: Invitation,
    /// Set when the acceptance created the account.
    pub new_account: Option<NewAccount>,
}

fn already_connected(partner: &str) -> ApiError {
    ApiError::Conflict(format!("this account is already connected with {partner}"))
}

/// An acceptance's writes: both invitation copies (still open), both sides of the connection,
/// both entities, the partner records (one connection per pair of accounts) and the audit
/// entries. The link stays until its TTL, so that opening it again says the invitation was accepted.
fn acceptance_writes(invitation: &Invitation, accepting: &AccountRef, plan: &Acceptance, actor: &str, now: &Timestamp) -> Result<Vec<Write>, ApiError> {
    let inviter = &invitation.inviter;
    let connection_id = &plan.inviter_side.id;
    // The accepted invitation names the accepting account, so its copies are the inviter's and
    // the accepting account's. The latter exists unless the invitation was addressed to an email
    // that had no account when it was sent.
    let pending = keys::value(&InvitationStatus::Pending)?;
    let mut writes = copies_put(&plan.accepted, None, |side, write| {
        Ok(match side {
            Side::Inviter => write.only_if("#status = :pending AND #expires_at > :now").value(":now", keys::string(now.as_str())),
            Side::Invitee => write.only_if("attribute_not_exists(#pk) OR #status = :pending"),
        }
        .value(":pending", pending.clone()))
    })?;
    for connection in [&plan.inviter_side, &plan.accepting_side] {
        let key = keys::connection(&connection.account_id, &connection.id);
        writes.push(Write::put(Part::Connection, key.clone(), keys::item(&key, ItemType::Connection, connection)?).only_if("attribute_not_exists(#pk)"));
    }
    let mut entity_update = Write::update(Part::Entity, keys::entity(&inviter.id, &invitation.entity_id));
    if let Some(name) = &plan.inviter_entity_name {
        entity_update = entity_update.set("name", keys::string(name));
    }
    writes.push(
        entity_update
            .set("pending", AttributeValue::Bool(false))
            .set("connected", keys::value(&invitation.relationship_type)?)
            .set("connected_account_id", keys::value(&accepting.id)?)
            .set("connection_id", keys::value(connection_id)?)
            .set("updated_at", keys::string(now.as_str())),
    );
    // The accepting account sees the inviter as an entity too (mutual source access).
    let mirror_entity_key = keys::entity(&accepting.id, &plan.mirror_entity.id);
    writes.push(Write::put(Part::MirrorEntity, mirror_entity_key.clone(), keys::item(&mirror_entity_key, ItemType::Entity, &plan.mirror_entity)?));
    // Partner records: the invitation's is released; the record it was addressed by keeps the
    // connection (re-inviting the same address is "already connected", which its inviter
    // knows); so do both accounts' records for each other, which fails if either pair is
    // already connected.
    let target = invitation.invitee();
    let accepting_target = Invitee::Account(accepting.id.clone());
    writes.push(
        Write::update(Part::Partner, keys::partner(&inviter.id, &target))
            .remove("pending_invitation_id")
            .remove("pending_expires_at")
            .set("connection_id", keys::value(connection_id)?)
            .only_if("#pending_invitation_id = :id AND attribute_not_exists(#connection_id)")
            .value(":id", keys::value(&invitation.id)?),
    );
    if target != accepting_target {
        writes.push(
            Write::update(Part::PartnerAccount, keys::partner(&inviter.id, &accepting_target))
                .set("entity_id", keys::value(&invitation.entity_id)?)
                .set("connection_id", keys::value(connection_id)?)
                .only_if("attribute_not_exists(#pk) OR (#entity_id = :entity AND attribute_not_exists(#connection_id))")
                .value(":entity", keys::value(&invitation.entity_id)?),
        );
    }
    writes.push(
        Write::update(Part::PartnerMirror, keys::partner(&accepting.id, &Invitee::Account(inviter.id.clone())))
            .set("entity_id", keys::value(&plan.mirror_entity.id)?)
            .set("connection_id", keys::value(connection_id)?)
            .only_if("attribute_not_exists(#connection_id)"),
    );
    let accepted_event = Audit { event: AuditAction::InvitationAccepted, actor, subject_id: &invitation.id, at: now };
    writes.extend(accepted_event.writes_for_both(&inviter.id, Some(&accepting.id))?);
    let created_event = Audit { event: AuditAction::ConnectionCreated, actor, subject_id: connection_id, at: now };
    writes.extend(created_event.writes_for_both(&inviter.id, Some(&accepting.id))?);
    Ok(writes)
}

impl PartnersTable<'_> {
    /// The invited account accepts with its API key.
    pub async fn accept_invitation(&self, caller: &Caller, id: &Id) -> Result<Accepted, ApiError> {
        let invitation = self.invitation(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?;
        invitation.check_direction(Direction::Received, "accept")?;
        self.check_open(&invitation).await?;
        let account = self.db.accounts().account(&caller.account_id).await?.ok_or(ApiError::Unauthenticated("account no longer exists"))?;
        let accepting = AccountRef { id: account.id, name: account.name };
        self.connect(&invitation, accepting, &caller.user_email, None).await
    }

    /// The account an invitation's link answers for without an API key: the invited account,
    /// or the account of the user the invited address now belongs to. The link was emailed to
    /// that account's users, so holding it proves access to one of their mailboxes.
    pub async fn addressee_account(&self, invitation: &Invitation) -> Result<Option<AccountRef>, ApiError> {
        if let Some(account) = &invitation.invitee_account {
            return Ok(Some(account.clone()));
        }
        let Some(email) = &invitation.invitee_email else { return Ok(None) };
        let Some(user) = self.db.accounts().user(email).await? else { return Ok(None) };
        Ok(self.db.accounts().account(&user.account_id).await?.map(|a| AccountRef { id: a.id, name: a.name }))
    }

    /// Accepts through the emailed link's token: with an API key, for the invited account the
    /// link was emailed to, or by creating an account for an invited address that has none.
    pub async fn claim_invitation(&self, token: &str, claimant: Claimant) -> Result<Accepted, ApiError> {
        let invitation = self.invitation_by_link(token).await?;
        self.check_open(&invitation).await?;
        let addressee = self.addressee_account(&invitation).await?;
        let (accepting, actor, new_account) = match accepter(&invitation, addressee, claimant)? {
            Accepter::Caller(caller) => {
                let account = self.db.accounts().account(&caller.account_id).await?.ok_or(ApiError::Unauthenticated("account no longer exists"))?;
                (AccountRef { id: account.id, name: account.name }, caller.user_email, None)
            }
            Accepter::Addressee(account) => (account, link_actor(&invitation), None),
            Accepter::NewAccount { email, account_name, user_name } => {
                let new = NewAccount::new(account_name, crate::platform::accounts::Plan::Free, email.clone(), user_name);
                (AccountRef { id: new.account.id.clone(), name: new.account.name.clone() }, email, Some(new))
            }
        };
        self.connect(&invitation, accepting, &actor, new_account).await
    }

    /// Accepts `invitation` for `accepting`: one transaction writes the connection (both sides),
    /// both entities, both partner records, both invitation copies and the audit trail.
    async fn connect(
        &self,
        invitation: &Invitation,
        accepting: AccountRef,
        actor: &str,
        new_account: Option<NewAccount>,
    ) -> Result<Accepted, ApiError> {
        let inviter = &invitation.inviter;
        let now = time::now();
        let mirror_target = Invitee::Account(inviter.id.clone());
        let mirror = self.partner(&accepting.id, &mirror_target).await?;
        if mirror.connection_id.is_some() {
            return Err(already_connected(&inviter.name));
        }
        let mirror_entity = match &mirror.entity_id {
            Some(id) => Some(self.existing_entity(&accepting.id, id).await?),
            None => None,
        };
        // Only an invitation to an address can have named the inviter's entity by it.
        let inviter_entity_name = match &invitation.invitee_email {
            Some(_) => Some(self.existing_entity(&inviter.id, &invitation.entity_id).await?.name),
            None => None,
        };
        let plan = invitation.accept(&accepting, actor, mirror_entity, inviter_entity_name.as_deref(), &now)?;
        let mut writes = new_account.as_ref().map(NewAccount::writes).transpose()?.unwrap_or_default();
        writes.extend(acceptance_writes(invitation, &accepting, &plan, actor, &now)?);
        match self.db.transact(writes).await {
            Ok(()) => Ok(Accepted { invitation: Invitation::received_copy(&plan.accepted), connection: plan.accepting_side, new_account }),
            Err(TxError::Other(e)) => Err(e),
            Err(TxError::Condition(Part::User)) => Err(ApiError::Conflict(format!(
                "a user with email {actor} already exists; accept with that account's API key"
            ))),
            Err(TxError::Condition(Part::PartnerAccount | Part::PartnerMirror)) => Err(already_connected(&inviter.name)),
            // Lost a race or the invitation changed: say what it is now.
            Err(err) => {
                let current = self.invitation(&inviter.id, &invitation.id).await?.ok_or(ApiError::NotFound("invitation"))?;
                current.check_answerable(&time::now())?;
                match err {
                    TxError::Busy => Err(busy()),
                    _ => Err(already_connected(&inviter.name)),
                }
            }
        }
    }
}
