//! Invitations and the connection their acceptance creates.
//!
//! Each party keeps its own copy of an invitation under its own partition (`direction` says
//! which side it is on); every change updates both copies in one transaction. The inviter's
//! partner record (`keys::partner`) holds the pending invitation and the active connection, and
//! its conditions keep one pending invitation per partner and one connection per pair of accounts.

use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::PartnersTable;
use crate::store::lists::{Filter, Page, PageRequest};
use crate::partners::domain::AuditAction;
use crate::store::partners::audit::Audit;
use crate::store::tx::{Part, TxError, Write, busy};
use crate::platform::accounts::Caller;
use crate::partners::domain::acceptance::link_actor;
use crate::partners::domain::invitation::{Closing, Direction, Invitation, InvitationStatus, Invitee, NewInvitation, PartnerRecord, SendDecision, Side, pending_entity};
use crate::partners::domain::{AccountRef, Entity, Relationship};
use crate::platform::error::ApiError;
use domain::Refusal;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType};
use crate::platform::time::{self, Timestamp};
use crate::partners::settings::InvitationSettings;
use crate::platform::secret;

/// The invitation link's token, stored by hash; DynamoDB's TTL removes it after expiry.
#[derive(Debug, Serialize, Deserialize)]
struct TokenRecord {
    invitation_id: Id,
    inviter_account_id: Id,
    ttl: u64,
}

const TOKEN_HASH: &str = "token_hash";

/// Whom to invite, as the request names them.
#[derive(Clone, Debug)]
pub enum InviteeRequest {
    Email(String),
    Account(Id),
}

#[derive(Debug)]
pub struct Sent {
    /// False when an existing pending invitation to the same partner was returned instead.
    pub created: bool,
    pub invitation: Invitation,
    pub entity: Entity,
    /// For a new or renewed invitation: the link token and who to email it to.
    pub link: Option<InvitationLink>,
}

#[derive(Debug)]
pub struct InvitationLink {
    pub token: String,
    pub recipients: Vec<String>,
}

fn expiry(settings: &InvitationSettings) -> (Timestamp, u64) {
    let at = SystemTime::now() + settings.ttl;
    // Kept a day past expiry so a late click gets "expired" rather than "unknown".
    (time::format(at), time::epoch_seconds(at + Duration::from_secs(86_400)))
}

pub(super) fn token_write(invitation: &Invitation, token: &str, ttl: u64) -> Result<Write, ApiError> {
    let key = keys::invitation_token(&secret::hash(token));
    let record = TokenRecord { invitation_id: invitation.id.clone(), inviter_account_id: invitation.inviter.id.clone(), ttl };
    Ok(Write::put(Part::Token, key.clone(), keys::item(&key, ItemType::InvitationToken, &record)?))
}

/// The part of a transaction that writes one side's copy of an invitation.
pub(super) fn copy_part(side: Side) -> Part {
    match side {
        Side::Inviter => Part::Invitation,
        Side::Invitee => Part::InviteeInvitation,
    }
}

/// Every copy of `invitation` written whole, with `token_hash` beside it, conditioned by
/// `condition` for its side.
pub(super) fn copies_put(invitation: &Invitation, token_hash: Option<&str>, condition: impl Fn(Side, Write) -> Result<Write, ApiError>) -> Result<Vec<Write>, ApiError> {
    invitation
        .copies()
        .into_iter()
        .map(|(side, owner, copy)| {
            let key = keys::invitation(&owner, &copy.id);
            let mut item = keys::item(&key, ItemType::Invitation, &copy)?;
            if let Some(hash) = token_hash {
                item.insert(TOKEN_HASH.into(), keys::string(hash));
            }
            condition(side, Write::put(copy_part(side), key, item))
        })
        .collect()
}

/// `write` only while the invitation is open (pending, or expired without anyone answering).
fn while_open(write: Write) -> Result<Write, ApiError> {
    Ok(write
        .only_if("#status = :pending OR #status = :expired")
        .value(":pending", keys::value(&InvitationStatus::Pending)?)
        .value(":expired", keys::value(&InvitationStatus::Expired)?))
}

/// Both copies' status change, conditioned on the invitation still being open. An update, not a
/// put: the link's token hash stays beside them, so that a resend can retire that link.
fn status_updates(closed: &Invitation) -> Result<Vec<Write>, ApiError> {
    closed
        .copies()
        .into_iter()
        .map(|(side, owner, _)| {
            while_open(
                Write::update(copy_part(side), keys::invitation(&owner, &closed.id))
                    .set("status", keys::value(&closed.status)?)
                    .set("responded_by", keys::value(&closed.responded_by)?)
                    .set("responded_at", keys::value(&closed.responded_at)?)
                    .set("updated_at", keys::string(closed.updated_at.as_str())),
            )
        })
        .collect()
}

/// A new invitation's writes: the inviter's partner record (one pending invitation per partner,
/// none once connected), its entity, both copies, the link token and the audit entries.
fn new_invitation_writes(caller: &Caller, target: &Invitee, invitation: &Invitation, entity: &Entity, token: &str, token_ttl: u64, now: &Timestamp) -> Result<Vec<Write>, ApiError> {
    let guard_key = keys::partner(&caller.account_id, target);
    let entity_key = keys::entity(&caller.account_id, &entity.id);
    let guard = PartnerRecord::pending(&entity.id, invitation);
    let mut writes = vec![
        Write::put(Part::Partner, guard_key.clone(), keys::item(&guard_key, ItemType::Partner, &guard)?)
            .only_if(
                "attribute_not_exists(#pk) OR (attribute_not_exists(#connection_id) AND \
                 (attribute_not_exists(#pending_invitation_id) OR #pending_expires_at <= :now))",
            )
            .value(":now", keys::string(now.as_str())),
        Write::put(Part::Entity, entity_key.clone(), keys::item(&entity_key, ItemType::Entity, entity)?),
        token_write(invitation, token, token_ttl)?,
    ];
    writes.extend(copies_put(invitation, Some(&secret::hash(token)), |_, write| Ok(write.only_if("attribute_not_exists(#pk)")))?);
    let invitee_account = invitation.invitee_account.as_ref().map(|a| &a.id);
    let audit = Audit { event: AuditAction::InvitationSent, actor: &caller.user_email, subject_id: &invitation.id, at: now };
    writes.extend(audit.writes_for_both(&caller.account_id, invitee_account)?);
    Ok(writes)
}

/// The `GET /invitations` filters as a DynamoDB filter expression. "pending" and "expired" are
/// judged against `now`, since a pending invitation past its expiry is expired.
fn invitation_filter(status: Option<InvitationStatus>, direction: Option<Direction>, now: &str) -> Result<Option<Filter>, ApiError> {
    let mut clauses = vec![];
    let mut values = vec![];
    if let Some(direction) = direction {
        clauses.push("#direction = :direction");
        values.push((":direction", keys::value(&direction)?));
    }
    match status {
        None => {}
        Some(InvitationStatus::Pending) => clauses.push("(#status = :pending AND #expires_at > :now)"),
        Some(InvitationStatus::Expired) => clauses.push("(#status = :expired OR (#status = :pending AND #expires_at <= :now))"),
        Some(other) => {
            clauses.push("#status = :status");
            values.push((":status", keys::value(&other)?));
        }
    }
    if matches!(status, Some(InvitationStatus::Pending | InvitationStatus::Expired)) {
        values.push((":pending", keys::value(&InvitationStatus::Pending)?));
        values.push((":now", keys::string(now)));
        if status == Some(InvitationStatus::Expired) {
            values.push((":expired", keys::value(&InvitationStatus::Expired)?));
        }
    }
    Ok((!clauses.is_empty()).then(|| Filter { expression: clauses.join(" AND "), values }))
}

impl PartnersTable<'_> {
    /// Sent and received, newest first, as seen at `now`; narrowed by status and direction.
    pub async fn invitations(&self, account: &Id, status: Option<InvitationStatus>, direction: Option<Direction>, page: &PageRequest) -> Result<Page<Invitation>, ApiError> {
        let now = time::now();
        let mut listed = self.db.list::<Invitation>(account, keys::prefix::INVITATION, page, invitation_filter(status, direction, &now)?).await?;
        listed.items = listed.items.into_iter().map(|i| i.as_seen_at(&now)).collect();
        Ok(listed)
    }

    pub async fn invitation(&self, owner: &Id, id: &Id) -> Result<Option<Invitation>, ApiError> {
        Ok(self.invitation_and_token(owner, id).await?.map(|(invitation, _)| invitation))
    }

    /// The copy and the hash of its current link token (stored beside it, never shown).
    pub(super) async fn invitation_and_token(&self, owner: &Id, id: &Id) -> Result<Option<(Invitation, Option<String>)>, ApiError> {
        let Some(mut item) = self.db.get(&keys::invitation(owner, id)).await? else { return Ok(None) };
        let token_hash = item.remove(TOKEN_HASH).and_then(|v| v.as_s().ok().cloned());
        Ok(Some((keys::parse(item)?, token_hash)))
    }

    /// Who the invitation email goes to: the invited address, or every user of the invited account.
    async fn invitation_recipients(&self, invitation: &Invitation) -> Result<Vec<String>, ApiError> {
        Ok(match (&invitation.invitee_email, &invitation.invitee_account) {
            (Some(email), _) => vec![email.clone()],
            (None, Some(account)) => self.db.accounts().account_user_emails(&account.id).await?,
            (None, None) => vec![],
        })
    }

    /// The account and the address an invitation goes to: an address that belongs to a user
    /// invites that user's account too.
    async fn addressee(&self, invitee: InviteeRequest) -> Result<(Option<AccountRef>, Option<String>), ApiError> {
        let (account_id, email) = match invitee {
            InviteeRequest::Account(id) => (Some(id), None),
            InviteeRequest::Email(email) => (self.db.accounts().user(&email).await?.map(|user| user.account_id), Some(email)),
        };
        let account = match account_id {
            Some(id) => Some(self.db.accounts().account(&id).await?.ok_or(ApiError::NotFound("account"))?),
            None => None,
        };
        Ok((account.map(|a| AccountRef { id: a.id, name: a.name }), email))
    }

    pub(super) async fn partner(&self, owner: &Id, invitee: &Invitee) -> Result<PartnerRecord, ApiError> {
        Ok(self.db.get_as(&keys::partner(owner, invitee)).await?.unwrap_or_default())
    }

    /// An entity the invitation names, which must exist.
    pub(super) async fn existing_entity(&self, owner: &Id, id: &Id) -> Result<Entity, ApiError> {
        self.db.get_as(&keys::entity(owner, id)).await?.ok_or_else(|| ApiError::Internal(format!("entity {id} of {owner} missing")))
    }

    /// Sends an invitation, or returns the pending one to the same partner (`created: false`).
    pub async fn send_invitation(
        &self,
        caller: &Caller,
        invitee: InviteeRequest,
        relationship: Relationship,
        name: Option<String>,
        settings: &InvitationSettings,
    ) -> Result<Sent, ApiError> {
        let inviter = self.db.accounts().account(&caller.account_id).await?.ok_or(ApiError::Unauthenticated("account no longer exists"))?;
        let (invitee_account, invitee_email) = self.addressee(invitee).await?;
        let new = NewInvitation {
            inviter: AccountRef { id: inviter.id, name: inviter.name },
            invitee_account,
            invitee_email,
            relationship,
            created_by: caller.user_email.clone(),
        };
        let target = new.partner()?;
        let entity_name = new.entity_name(name);
        // Two attempts: a concurrent send to the same partner makes the first fail its
        // condition, and the second then finds and returns that invitation.
        for _ in 0..2 {
            let now = time::now();
            let partner = self.partner(&caller.account_id, &target).await?;
            match partner.send_decision(&now) {
                SendDecision::Connected(id) => return Err(ApiError::Conflict(format!("already connected with this partner (connection {id})"))),
                SendDecision::Pending(id) => {
                    let invitation = self.invitation(&caller.account_id, &id).await?.ok_or(ApiError::NotFound("invitation"))?;
                    if invitation.relationship_type != relationship {
                        return Err(ApiError::Conflict(format!("a pending invitation ({id}) proposes a different relationship; revoke it first")));
                    }
                    let entity = self.existing_entity(&caller.account_id, &invitation.entity_id).await?;
                    return Ok(Sent { created: false, invitation, entity, link: None });
                }
                SendDecision::New => {}
            }
            let (expires_at, token_ttl) = expiry(settings);
            let entity_id = partner.entity_id.clone().unwrap_or_else(Id::generate);
            let invitation = new.clone().pending(entity_id, expires_at, &now);
            let existing = match &partner.entity_id {
                Some(id) => Some(self.existing_entity(&caller.account_id, id).await?),
                None => None,
            };
            let entity = pending_entity(existing, &entity_name, &invitation, &now);
            let token = secret::new_token();
            match self.db.transact(new_invitation_writes(caller, &target, &invitation, &entity, &token, token_ttl, &now)?).await {
                Ok(()) => {
                    let recipients = self.invitation_recipients(&invitation).await?;
                    return Ok(Sent { created: true, invitation, entity, link: Some(InvitationLink { token, recipients }) });
                }
                Err(TxError::Condition(Part::Partner)) => continue,
                Err(TxError::Busy) => return Err(busy()),
                Err(TxError::Condition(label)) => return Err(ApiError::Internal(format!("invitation write {label:?} failed its condition"))),
                Err(TxError::Other(e)) => return Err(e),
            }
        }
        Err(ApiError::Conflict("another change to this partner is in progress; retry".into()))
    }

    /// Renews a pending or expired invitation: new expiry, new link (the old one stops working).
    pub async fn resend_invitation(&self, caller: &Caller, id: &Id, settings: &InvitationSettings) -> Result<Sent, ApiError> {
        let (invitation, old_token_hash) = self.invitation_and_token(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?;
        let now = time::now();
        invitation.check_resendable(&now)?;
        let (expires_at, token_ttl) = expiry(settings);
        let token = secret::new_token();
        let renewed = invitation.renewed(expires_at.clone(), &now);
        let mut writes = copies_put(&renewed, Some(&secret::hash(&token)), |_, write| while_open(write))?;
        writes.push(
            Write::update(Part::Partner, keys::partner(&caller.account_id, &invitation.invitee()))
                .set("pending_invitation_id", keys::value(id)?)
                .set("pending_expires_at", keys::string(expires_at.as_str()))
                .only_if(
                    "attribute_not_exists(#connection_id) AND (attribute_not_exists(#pending_invitation_id) \
                     OR #pending_invitation_id = :id OR #pending_expires_at <= :now)",
                )
                .value(":id", keys::value(id)?)
                .value(":now", keys::string(now.as_str())),
        );
        writes.push(
            Write::update(Part::Entity, keys::entity(&caller.account_id, &invitation.entity_id))
                .set("pending", AttributeValue::Bool(true))
                .set("invitation_id", keys::value(id)?)
                .set("invitation_expires_at", keys::string(expires_at.as_str()))
                .set("updated_at", keys::string(now.as_str())),
        );
        if let Some(hash) = old_token_hash {
            writes.push(Write::delete(Part::OldToken, keys::invitation_token(&hash)));
        }
        writes.push(token_write(&renewed, &token, token_ttl)?);
        let audit = Audit { event: AuditAction::InvitationResent, actor: &caller.user_email, subject_id: id, at: &now };
        writes.extend(audit.writes_for_both(&caller.account_id, renewed.invitee_account.as_ref().map(|a| &a.id))?);

        self.db.transact(writes).await.map_err(|err| match err {
            TxError::Condition(Part::Partner) => ApiError::Conflict("another invitation to this partner is pending, or it is already connected".into()),
            TxError::Condition(_) => ApiError::Conflict(format!("invitation {id} changed while resending; retry")),
            TxError::Busy => busy(),
            TxError::Other(e) => e,
        })?;
        let recipients = self.invitation_recipients(&renewed).await?;
        let entity = self.existing_entity(&caller.account_id, &renewed.entity_id).await?;
        Ok(Sent { created: false, invitation: renewed, entity, link: Some(InvitationLink { token, recipients }) })
    }

    /// Ends an open invitation (revoked, declined or expired): both copies, the inviter's partner
    /// record and entity if they still point at it, and the link.
    async fn close_invitation(&self, invitation: &Invitation, closing: Closing, actor: &str) -> Result<Invitation, ApiError> {
        let now = time::now();
        let inviter = &invitation.inviter.id;
        let closed = invitation.closed(closing, actor, &now);
        let mut writes = status_updates(&closed)?;
        let partner = self.partner(inviter, &invitation.invitee()).await?;
        if partner.pending_invitation_id.as_ref() == Some(&invitation.id) {
            writes.push(
                Write::update(Part::Partner, keys::partner(inviter, &invitation.invitee()))
                    .remove("pending_invitation_id")
                    .remove("pending_expires_at")
                    .only_if("#pending_invitation_id = :id")
                    .value(":id", keys::value(&invitation.id)?),
            );
            writes.push(
                Write::update(Part::Entity, keys::entity(inviter, &invitation.entity_id))
                    .set("pending", AttributeValue::Bool(false))
                    .set("updated_at", keys::string(now.as_str())),
            );
        }
        let audit = Audit { event: closing.audit_action(), actor, subject_id: &invitation.id, at: &now };
        writes.extend(audit.writes_for_both(inviter, invitation.invitee_account.as_ref().map(|a| &a.id))?);
        self.db.transact(writes).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict(format!("invitation {} changed concurrently; retry", invitation.id)),
        })?;
        Ok(closed)
    }

    /// The inviter withdraws an open invitation.
    pub async fn revoke_invitation(&self, caller: &Caller, id: &Id) -> Result<Invitation, ApiError> {
        let invitation = self.invitation(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?;
        invitation.check_revocable(&time::now())?;
        self.close_invitation(&invitation, Closing::Revoked, &caller.user_email).await
    }

    /// The invited account declines.
    pub async fn decline_invitation(&self, caller: &Caller, id: &Id) -> Result<Invitation, ApiError> {
        let invitation = self.invitation(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?;
        invitation.check_direction(Direction::Received, "decline")?;
        self.check_open(&invitation).await?;
        self.close_invitation(&invitation, Closing::Declined, &caller.user_email).await
    }

    /// Open, or the error saying why not. The first operation to find an invitation past its
    /// expiry records that it expired (audit trail).
    pub(super) async fn check_open(&self, invitation: &Invitation) -> Result<(), ApiError> {
        let now = time::now();
        let result = invitation.check_answerable(&now);
        if matches!(result, Err(Refusal::Expired(_))) && invitation.status == InvitationStatus::Pending {
            self.close_invitation(invitation, Closing::Expired, "system").await?;
        }
        Ok(result?)
    }

    /// The invitation an emailed link belongs to (the inviter's copy), whatever became of it.
    pub async fn invitation_by_link(&self, token: &str) -> Result<Invitation, ApiError> {
        let unknown = || ApiError::NotFound("invitation");
        let record: TokenRecord = self.db.get_as(&keys::invitation_token(&secret::hash(token))).await?.ok_or_else(unknown)?;
        self.invitation(&record.inviter_account_id, &record.invitation_id).await?.ok_or_else(unknown)
    }

    /// Declines through the emailed link's token: whoever the link was emailed to may say no.
    pub async fn decline_by_link(&self, token: &str) -> Result<Invitation, ApiError> {
        let invitation = self.invitation_by_link(token).await?;
        self.check_open(&invitation).await?;
        self.close_invitation(&invitation, Closing::Declined, &link_actor(&invitation)).await.map(|closed| Invitation::received_copy(&closed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(filter: &Filter) -> Vec<&str> {
        let mut names: Vec<&str> = filter.values.iter().map(|(name, _)| *name).collect();
        names.sort();
        names
    }

    #[test]
    fn no_filter_without_parameters() {
        assert!(invitation_filter(None, None, "now").unwrap().is_none());
    }

    #[test]
    fn every_value_placeholder_used_is_supplied_and_no_other() {
        let cases = [
            (Some(InvitationStatus::Pending), None, vec![":now", ":pending"]),
            (Some(InvitationStatus::Expired), None, vec![":expired", ":now", ":pending"]),
            (Some(InvitationStatus::Accepted), Some(Direction::Sent), vec![":direction", ":status"]),
        ];
        for (status, direction, expected) in cases {
            let filter = invitation_filter(status, direction, "2030-01-01T00:00:00Z").unwrap().unwrap();
            assert_eq!(placeholders(&filter), expected, "{}", filter.expression);
            for name in expected {
                assert!(filter.expression.contains(name), "{name} unused in {}", filter.expression);
            }
        }
    }
}
