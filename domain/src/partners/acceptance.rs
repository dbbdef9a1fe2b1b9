//! Accepting an invitation: who a link's holder accepts for, and what the acceptance creates.

use crate::partners::invitation::{Direction, Invitation, InvitationStatus};
use crate::partners::{AccountRef, Connection, ConnectionStatus, Entity, Relationship};
use crate::platform::accounts::Caller;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Who accepts through an invitation link.
pub enum Claimant {
    /// An authenticated account (its API key was presented with the token).
    Account(Caller),
    /// The link alone: it accepts for the account it was emailed to or, for an address without
    /// one, creates that account (free plan; these are its name and its first user's name).
    Link { new_account: Option<(String, String)> },
}

/// Whom a claim accepts for.
#[derive(Debug, PartialEq)]
pub enum Accepter {
    /// The calling account, as its user.
    Caller(Caller),
    /// The account the link was emailed to, by the link alone.
    Addressee(AccountRef),
    /// A new account for the invited address, which has none.
    NewAccount { email: String, account_name: String, user_name: String },
}

/// The claim matrix. The link answers for the account it was emailed to (`addressee`: named at
/// sending, or the one its address now belongs to). Only for an address with no account may a
/// key holder accept for its own account, as the holder of the link could equally create one
/// (docs/security.md).
pub fn accepter(invitation: &Invitation, addressee: Option<AccountRef>, claimant: Claimant) -> Result<Accepter, Refusal> {
    match (claimant, addressee) {
        (Claimant::Account(caller), Some(addressee)) if addressee.id != caller.account_id => {
            Err(Refusal::NotAllowed("this invitation is addressed to another account".into()))
        }
        (Claimant::Account(caller), _) => Ok(Accepter::Caller(caller)),
        (Claimant::Link { .. }, Some(account)) => Ok(Accepter::Addressee(account)),
        (Claimant::Link { new_account: Some((account_name, user_name)) }, None) => match &invitation.invitee_email {
            Some(email) => Ok(Accepter::NewAccount { email: email.clone(), account_name, user_name }),
            None => Err(Refusal::NotFound("invitation")),
        },
        (Claimant::Link { new_account: None }, None) => Err(Refusal::invalid(
            "account_name",
            "missing field `account_name` (and `name`): the invited address has no account yet, so accepting creates one",
        )),
    }
}

/// Who answered through a link, for the audit trail: the address it was emailed to.
pub fn link_actor(invitation: &Invitation) -> String {
    invitation.invitee_email.clone().unwrap_or_else(|| "invitation link".into())
}

/// What accepting an invitation creates: the connection seen from each side, the invitation as
/// accepted (the inviter's copy), and the accepting account's entity for the inviter.
#[derive(Debug)]
pub struct Acceptance {
    pub inviter_side: Connection,
    pub accepting_side: Connection,
    pub accepted: Invitation,
    pub mirror_entity: Entity,
    /// The inviter's entity takes the account's name when it only had the invited address (who
    /// owns it was not the inviter's to know until now).
    pub inviter_entity_name: Option<String>,
}

impl Invitation {
    /// `accepting` accepts this invitation as `actor` at `now`. `mirror` is its existing entity for
    /// the inviter, if any; `inviter_entity_name` the name of the inviter's entity, if known.
    /// An account cannot accept its own invitation (400).
    pub fn accept(&self, accepting: &AccountRef, actor: &str, mirror: Option<Entity>, inviter_entity_name: Option<&str>, now: &Timestamp) -> Result<Acceptance, Refusal> {
        if self.inviter.id == accepting.id {
            return Err(Refusal::Malformed("an account cannot accept its own invitation".into()));
        }
        let connection_id = Id::generate();
        let mirror_entity_id = mirror.as_ref().map_or_else(Id::generate, |e| e.id.clone());
        let side = |account: &Id, partner: &AccountRef, relationship: Relationship, entity: &Id, partner_entity: &Id| Connection {
            id: connection_id.clone(),
            account_id: account.clone(),
            connected_account: partner.clone(),
            invitation_id: self.id.clone(),
            relationship_type: relationship,
            status: ConnectionStatus::Active,
            buyer_delivery_configured: false,
            buyer_delivery_configured_at: None,
            buyer_flow_id: None,
            created_by: self.created_by.clone(),
            entity_id: entity.clone(),
            partner_entity_id: partner_entity.clone(),
            created_at: now.clone(),
            updated_at: now.clone(),
            revoked_at: None,
            revoked_by: None,
            leads_delivered: 0,
            leads_rejected: 0,
            leads_failed: 0,
            last_delivery_at: None,
            documentation: None,
        };
        let relationship = self.relationship_type;
        let inviter_side = side(&self.inviter.id, accepting, relationship, &self.entity_id, &mirror_entity_id);
        let accepting_side = side(&accepting.id, &self.inviter, relationship.flipped(), &mirror_entity_id, &self.entity_id);
        let mirror_base = mirror.unwrap_or_else(|| Entity::new(mirror_entity_id, &self.inviter.name, now));
        let mirror_entity = Entity {
            pending: false,
            connected: Some(relationship.flipped()),
            connected_account_id: Some(self.inviter.id.clone()),
            connection_id: Some(connection_id.clone()),
            invitation_id: Some(self.id.clone()),
            invitation_expires_at: None,
            updated_at: now.clone(),
            ..mirror_base
        };
        let accepted = Invitation {
            direction: Direction::Sent,
            status: InvitationStatus::Accepted,
            invitee_account: Some(accepting.clone()),
            connection_id: Some(connection_id),
            responded_by: Some(actor.to_string()),
            responded_at: Some(now.clone()),
            updated_at: now.clone(),
            ..self.clone()
        };
        let named_by_address = self.invitee_email.is_some() && self.invitee_email.as_deref() == inviter_entity_name;
        Ok(Acceptance { inviter_side, accepting_side, accepted, mirror_entity, inviter_entity_name: named_by_address.then(|| accepting.name.clone()) })
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners::invitation::{pending_entity, sample};

    const BEFORE: &str = "2029-12-31T23:59:59Z";

    fn caller(account: &Id) -> Caller {
        Caller { account_id: account.clone(), user_email: "user@example.com".into(), key_id: Id::generate() }
    }

    #[test]
    fn a_link_answers_for_its_addressee_and_a_key_only_for_an_address_without_an_account() {
        let invitation = sample(InvitationStatus::Pending, Direction::Sent);
        let addressee = AccountRef { id: Id::generate(), name: "Buyer".into() };
        let stranger = Id::generate();
        let refused = accepter(&invitation, Some(addressee.clone()), Claimant::Account(caller(&stranger)));
        assert!(matches!(refused, Err(Refusal::NotAllowed(_))), "another account's key");
        let (own, other) = (caller(&addressee.id), caller(&stranger));
        assert_eq!(accepter(&invitation, Some(addressee.clone()), Claimant::Account(own.clone())).unwrap(), Accepter::Caller(own));
        assert_eq!(accepter(&invitation, None, Claimant::Account(other.clone())).unwrap(), Accepter::Caller(other), "an address without an account");
        let link = |names: Option<(&str, &str)>| Claimant::Link { new_account: names.map(|(a, u)| (a.to_string(), u.to_string())) };
        assert_eq!(accepter(&invitation, Some(addressee.clone()), link(Some(("X", "Y")))).unwrap(), Accepter::Addressee(addressee));
        assert_eq!(
            accepter(&invitation, None, link(Some(("Buyer Inc", "Bo")))).unwrap(),
            Accepter::NewAccount { email: "buyer@example.com".into(), account_name: "Buyer Inc".into(), user_name: "Bo".into() }
        );
        assert!(matches!(accepter(&invitation, None, link(None)), Err(Refusal::Invalid { .. })), "names are needed to create the account");
        let to_account = Invitation { invitee_email: None, ..invitation };
        assert!(matches!(accepter(&to_account, None, link(Some(("X", "Y")))), Err(Refusal::NotFound(_))), "no address to create an account for");
    }

    #[test]
    fn an_account_cannot_accept_its_own_invitation() {
        let invitation = sample(InvitationStatus::Pending, Direction::Sent);
        let refused = invitation.accept(&invitation.inviter.clone(), "me@example.com", None, None, &Timestamp::from(BEFORE));
        assert!(matches!(refused, Err(Refusal::Malformed(_))));
    }

    #[test]
    fn acceptance_connects_both_sides_with_flipped_relationships() {
        let invitation = Invitation { invitee_email: Some("buyer@example.com".into()), ..sample(InvitationStatus::Pending, Direction::Sent) };
        let accepting = AccountRef { id: Id::generate(), name: "Buyer Inc".into() };
        let now = Timestamp::from(BEFORE);
        let plan = invitation.accept(&accepting, "buyer@example.com", None, Some("buyer@example.com"), &now).unwrap();
        assert_eq!(plan.inviter_side.id, plan.accepting_side.id);
        assert_eq!(plan.inviter_side.relationship_type, invitation.relationship_type);
        assert_eq!(plan.accepting_side.relationship_type, invitation.relationship_type.flipped());
        assert_eq!((&plan.inviter_side.entity_id, &plan.accepting_side.partner_entity_id), (&invitation.entity_id, &invitation.entity_id));
        assert_eq!(plan.accepting_side.entity_id, plan.mirror_entity.id);
        assert_eq!((plan.mirror_entity.name.as_str(), plan.mirror_entity.connection_id.as_ref()), (invitation.inviter.name.as_str(), Some(&plan.inviter_side.id)));
        assert_eq!((plan.accepted.status, plan.accepted.connection_id.as_ref()), (InvitationStatus::Accepted, Some(&plan.inviter_side.id)));
        assert_eq!(plan.inviter_entity_name.as_deref(), Some("Buyer Inc"), "an entity named by the address takes the account's name");
        let renamed = invitation.accept(&accepting, "buyer@example.com", None, Some("Chosen name"), &now).unwrap();
        assert_eq!(renamed.inviter_entity_name, None, "a name the inviter chose stays");
    }

    #[test]
    fn acceptance_reuses_the_accepting_accounts_entity() {
        let invitation = sample(InvitationStatus::Pending, Direction::Sent);
        let now = Timestamp::from(BEFORE);
        let mirror = pending_entity(None, "Seller as I named it", &invitation, &now);
        let plan = invitation.accept(&AccountRef { id: Id::generate(), name: "B".into() }, "b@example.com", Some(mirror.clone()), None, &now).unwrap();
        assert_eq!((&plan.mirror_entity.id, plan.mirror_entity.name.as_str(), plan.mirror_entity.pending), (&mirror.id, "Seller as I named it", false));
        assert_eq!(plan.accepting_side.entity_id, mirror.id);
    }

}
