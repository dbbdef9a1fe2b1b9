//! Invitations: who may do what to one, and when.

use serde::{Deserialize, Serialize};

use crate::partners::{AccountRef, AuditAction, Entity, Relationship};
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One of the two parties to an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Inviter,
    Invitee,
}

/// How an open invitation ends without a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Revoked,
    Declined,
    Expired,
}

impl Closing {
    pub fn status(self) -> InvitationStatus {
        match self {
            Closing::Revoked => InvitationStatus::Revoked,
            Closing::Declined => InvitationStatus::Declined,
            Closing::Expired => InvitationStatus::Expired,
        }
    }

    /// What the audit trail records of it.
    pub fn audit_action(self) -> AuditAction {
        match self {
            Closing::Revoked => AuditAction::InvitationRevoked,
            Closing::Declined => AuditAction::InvitationDeclined,
            Closing::Expired => AuditAction::InvitationExpired,
        }
    }
}

/// Which side of the invitation the account holding this copy is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Sent,
    Received,
}

/// Who an invitation is addressed to: an account we know, or an email with no account yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invitee {
    Account(Id),
    Email(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: Id,
    pub direction: Direction,
    pub inviter: AccountRef,
    /// Set when the invitee is a known account (at send time, or on acceptance).
    pub invitee_account: Option<AccountRef>,
    pub invitee_email: Option<String>,
    /// The role the inviter proposes for the invitee: `buyer` (receives leads from the inviter),
    /// `seller` (sends leads to the inviter) or `both`.
    pub relationship_type: Relationship,
    pub status: InvitationStatus,
    pub expires_at: Timestamp,
    /// The inviter's entity for this partner.
    pub entity_id: Id,
    pub connection_id: Option<Id>,
    /// The inviting user's email.
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub responded_by: Option<String>,
    pub responded_at: Option<Timestamp>,
}

impl Invitation {
    /// Pending past its expiry counts as expired, whether or not anything recorded it yet.
    pub fn is_expired(&self, now: &str) -> bool {
        match self.status {
            InvitationStatus::Expired => true,
            InvitationStatus::Pending => self.expires_at.as_str() <= now,
            _ => false,
        }
    }

    pub fn effective_status(&self, now: &str) -> InvitationStatus {
        if self.is_expired(now) { InvitationStatus::Expired } else { self.status }
    }

    /// This copy as the API shows its holder at `now`. An inviter who invited an email address
    /// does not learn which account (if any) it belongs to until that account accepts.
    pub fn as_seen_at(mut self, now: &str) -> Invitation {
        self.status = self.effective_status(now);
        if self.direction == Direction::Sent && self.invitee_email.is_some() && self.status != InvitationStatus::Accepted {
            self.invitee_account = None;
        }
        self
    }

    /// Who the inviter addressed: the email when it invited one (whether or not an account
    /// turned out to own it), else the account.
    pub fn invitee(&self) -> Invitee {
        match (&self.invitee_email, &self.invitee_account) {
            (Some(email), _) => Invitee::Email(email.clone()),
            (None, Some(account)) => Invitee::Account(account.id.clone()),
            // Every invitation is created with one or the other.
            (None, None) => Invitee::Email(String::new()),
        }
    }

    /// Accepting or declining needs a live invitation; the error says what it is instead.
    pub fn check_answerable(&self, now: &str) -> Result<(), Refusal> {
        match self.effective_status(now) {
            InvitationStatus::Pending => Ok(()),
            InvitationStatus::Expired => {
                Err(Refusal::Expired(format!("invitation {} expired at {}", self.id, self.expires_at)))
            }
            other => Err(Refusal::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    /// Resending renews a pending or expired invitation; answered ones are final.
    pub fn check_resendable(&self, now: &str) -> Result<(), Refusal> {
        self.check_direction(Direction::Sent, "resend")?;
        match self.effective_status(now) {
            InvitationStatus::Pending | InvitationStatus::Expired => Ok(()),
            other => Err(Refusal::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    /// The inviter may withdraw an invitation until it is answered.
    pub fn check_revocable(&self, now: &str) -> Result<(), Refusal> {
        self.check_direction(Direction::Sent, "revoke")?;
        match self.effective_status(now) {
            InvitationStatus::Pending | InvitationStatus::Expired => Ok(()),
            other => Err(Refusal::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    /// Whether this copy's holder is a buyer in the relationship: it receives leads from the
    /// partner, so it is the side that onboards (seed 000).
    pub fn holder_buys(&self) -> bool {
        match self.direction {
            // The inviter buys when it proposed that the invitee sells to it (or both).
            Direction::Sent => self.relationship_type != Relationship::Buyer,
            Direction::Received => self.relationship_type != Relationship::Seller,
        }
    }

    /// The connection an accepted invitation created; anything else is not accepted yet (409).
    pub fn accepted_connection(&self) -> Result<&Id, Refusal> {
        match (self.status, &self.connection_id) {
            (InvitationStatus::Accepted, Some(connection)) => Ok(connection),
            _ => Err(Refusal::Conflict(format!("invitation {} has not been accepted", self.id))),
        }
    }

    /// Renewed by a resend: pending again until `expires_at`.
    pub fn renewed(&self, expires_at: Timestamp, now: &Timestamp) -> Invitation {
        Invitation { status: InvitationStatus::Pending, expires_at, updated_at: now.clone(), ..self.clone() }
    }

    /// As `closing` leaves it, answered by `actor` at `now`.
    pub fn closed(&self, closing: Closing, actor: &str, now: &Timestamp) -> Invitation {
        Invitation { status: closing.status(), responded_by: Some(actor.to_string()), responded_at: Some(now.clone()), updated_at: now.clone(), ..self.clone() }
    }

    /// The invited account's copy of this (inviter's) copy.
    pub fn received_copy(&self) -> Invitation {
        Invitation { direction: Direction::Received, ..self.clone() }
    }

    /// Every copy of this invitation with its holder: the inviter's and, once an account is
    /// invited (or has accepted), that account's received copy. A change writes them all.
    pub fn copies(&self) -> Vec<(Side, Id, Invitation)> {
        let mut copies = vec![(Side::Inviter, self.inviter.id.clone(), Invitation { direction: Direction::Sent, ..self.clone() })];
        if let Some(invitee) = &self.invitee_account {
            copies.push((Side::Invitee, invitee.id.clone(), self.received_copy()));
        }
        copies
    }

    pub fn check_direction(&self, required: Direction, action: &str) -> Result<(), Refusal> {
        if self.direction == required {
            Ok(())
        } else if required == Direction::Sent {
            Err(Refusal::NotAllowed(format!("only the inviting account can {action} invitation {}", self.id)))
        } else {
            Err(Refusal::NotAllowed(format!("only the invited account can {action} invitation {}", self.id)))
        }
    }
}

/// The inviter's record of one partner: its entity, the pending invitation and the active
/// connection. Absent fields are absent attributes, not NULLs, because the store's conditions
/// test them with `attribute_not_exists`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartnerRecord {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entity_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pending_invitation_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pending_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub connection_id: Option<Id>,
}

/// What a send to a partner comes to, from the inviter's record of it at `now`.
#[derive(Debug, PartialEq)]
pub enum SendDecision {
    /// Connected already: a 409.
    Connected(Id),
    /// A live invitation is pending: it is the answer (if it proposes the same relationship).
    Pending(Id),
    /// A new invitation (renewing the partner's entity, if it has one).
    New,
}

impl PartnerRecord {
    pub fn send_decision(&self, now: &str) -> SendDecision {
        match (&self.connection_id, &self.pending_invitation_id, &self.pending_expires_at) {
            (Some(connection), _, _) => SendDecision::Connected(connection.clone()),
            (None, Some(pending), Some(expires)) if expires.as_str() > now => SendDecision::Pending(pending.clone()),
            _ => SendDecision::New,
        }
    }

    /// The record once `invitation` is pending for the partner it names through `entity_id`.
    pub fn pending(entity_id: &Id, invitation: &Invitation) -> PartnerRecord {
        PartnerRecord {
            entity_id: Some(entity_id.clone()),
            pending_invitation_id: Some(invitation.id.clone()),
            pending_expires_at: Some(invitation.expires_at.clone()),
            connection_id: None,
        }
    }
}

/// What a new invitation says, before it has an id, an expiry and an entity.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    pub inviter: AccountRef,
    pub invitee_account: Option<AccountRef>,
    pub invitee_email: Option<String>,
    pub relationship: Relationship,
    pub created_by: String,
}

impl NewInvitation {
    /// The partner the inviter's records guard this invitation under. An email invitation is
    /// guarded per address, not per the account that owns it: what the inviter sees (a pending
    /// invitation returned, "already connected") must not tell it whose address it is; accepting
    /// checks the accounts' own partner records.
    pub fn partner(&self) -> Result<Invitee, Refusal> {
        if self.invitee_account.as_ref().is_some_and(|a| a.id == self.inviter.id) {
            return Err(Refusal::Conflict("an account cannot invite itself".into()));
        }
        match (&self.invitee_email, &self.invitee_account) {
            (Some(email), _) => Ok(Invitee::Email(email.clone())),
            (None, Some(account)) => Ok(Invitee::Account(account.id.clone())),
            (None, None) => Err(Refusal::invalid("email", "an email or account_id is required")),
        }
    }

    /// What the inviter's entity for a new partner is called: the name given, else the address,
    /// else the invited account's name.
    pub fn entity_name(&self, name: Option<String>) -> String {
        name.or_else(|| self.invitee_email.clone()).or_else(|| self.invitee_account.as_ref().map(|a| a.name.clone())).unwrap_or_default()
    }

    /// The pending invitation (the inviter's, `Sent`, copy) made at `now`.
    pub fn pending(self, entity_id: Id, expires_at: Timestamp, now: &Timestamp) -> Invitation {
        Invitation {
            id: Id::generate(),
            direction: Direction::Sent,
            inviter: self.inviter,
            invitee_account: self.invitee_account,
            invitee_email: self.invitee_email,
            relationship_type: self.relationship,
            status: InvitationStatus::Pending,
            expires_at,
            entity_id,
            connection_id: None,
            created_by: self.created_by,
            created_at: now.clone(),
            updated_at: now.clone(),
            responded_by: None,
            responded_at: None,
        }
    }
}

/// The inviter's entity for the partner while `invitation` is pending: the existing one marked
/// pending, or a new one named `name`.
pub fn pending_entity(existing: Option<Entity>, name: &str, invitation: &Invitation, now: &Timestamp) -> Entity {
    let base = existing.unwrap_or_else(|| Entity::new(invitation.entity_id.clone(), name, now));
    Entity {
        pending: true,
        invitation_id: Some(invitation.id.clone()),
        invitation_expires_at: Some(invitation.expires_at.clone()),
        updated_at: now.clone(),
        ..base
    }
}

/// A pending-or-not invitation for unit tests.
#[cfg(test)]
pub(crate) fn sample(status: InvitationStatus, direction: Direction) -> Invitation {
    Invitation {
        id: Id::parse("64b8f0f5e4b0c3a1d5e6f7a9").unwrap(),
        direction,
        inviter: AccountRef { id: Id::generate(), name: "Seller".into() },
        invitee_account: None,
        invitee_email: Some("buyer@example.com".into()),
        relationship_type: Relationship::Buyer,
        status,
        expires_at: "2030-01-01T00:00:00Z".into(),
        entity_id: Id::generate(),
        connection_id: None,
        created_by: "seller@example.com".into(),
        created_at: "2029-12-18T00:00:00Z".into(),
        updated_at: "2029-12-18T00:00:00Z".into(),
        responded_by: None,
        responded_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners::invitation::sample;

    const BEFORE: &str = "2029-12-31T23:59:59Z";
    const AFTER: &str = "2030-01-01T00:00:00Z";

    #[test]
    fn the_buying_side_is_the_one_its_partner_sells_to() {
        use Relationship::{Both, Buyer, Seller};
        for (direction, proposed, buys) in [
            (Direction::Sent, Seller, true),
            (Direction::Sent, Both, true),
            (Direction::Sent, Buyer, false),
            (Direction::Received, Buyer, true),
            (Direction::Received, Both, true),
            (Direction::Received, Seller, false),
        ] {
            let invitation = Invitation { relationship_type: proposed, ..sample(InvitationStatus::Accepted, direction) };
            assert_eq!(invitation.holder_buys(), buys, "{direction:?} {proposed:?}");
        }
    }

    #[test]
    fn a_send_is_refused_when_connected_answered_by_a_live_invitation_else_new() {
        let (connection, pending) = (Id::generate(), Id::generate());
        let record = |connection_id: Option<&Id>, pending_id: Option<&Id>| PartnerRecord {
            entity_id: Some(Id::generate()),
            pending_invitation_id: pending_id.cloned(),
            pending_expires_at: pending_id.map(|_| Timestamp::from(AFTER)),
            connection_id: connection_id.cloned(),
        };
        assert_eq!(PartnerRecord::default().send_decision(BEFORE), SendDecision::New);
        assert_eq!(record(Some(&connection), Some(&pending)).send_decision(BEFORE), SendDecision::Connected(connection));
        assert_eq!(record(None, Some(&pending)).send_decision(BEFORE), SendDecision::Pending(pending.clone()));
        assert_eq!(record(None, Some(&pending)).send_decision(AFTER), SendDecision::New, "an expired invitation is replaced");
    }

    #[test]
    fn a_new_invitation_is_guarded_by_address_first_and_names_its_entity() {
        let account = |name: &str| AccountRef { id: Id::generate(), name: name.into() };
        let inviter = account("Seller");
        let new = |invitee_account: Option<AccountRef>, invitee_email: Option<&str>| NewInvitation {
            inviter: inviter.clone(),
            invitee_account,
            invitee_email: invitee_email.map(str::to_string),
            relationship: Relationship::Buyer,
            created_by: "me@seller.example".into(),
        };
        let buyer = account("Buyer Inc");
        let by_address = new(Some(buyer.clone()), Some("b@example.com"));
        assert_eq!(by_address.partner().unwrap(), Invitee::Email("b@example.com".into()), "an address that belongs to an account is still the address");
        assert_eq!(by_address.entity_name(None), "b@example.com");
        assert_eq!(by_address.entity_name(Some("Chosen".into())), "Chosen");
        let by_account = new(Some(buyer.clone()), None);
        assert_eq!(by_account.partner().unwrap(), Invitee::Account(buyer.id.clone()));
        assert_eq!(by_account.entity_name(None), "Buyer Inc");
        assert!(matches!(new(Some(inviter.clone()), Some("me@seller.example")).partner().unwrap_err(), Refusal::Conflict(_)), "no inviting oneself");
        assert!(matches!(new(None, None).partner().unwrap_err(), Refusal::Invalid { .. }));
    }

    #[test]
    fn the_pending_entity_keeps_an_existing_one_and_names_a_new_one() {
        let invitation = sample(InvitationStatus::Pending, Direction::Sent);
        let now = Timestamp::from(BEFORE);
        let new = pending_entity(None, "Acme", &invitation, &now);
        assert_eq!((new.id.clone(), new.name.as_str(), new.pending), (invitation.entity_id.clone(), "Acme", true));
        assert_eq!((new.invitation_id.as_ref(), new.invitation_expires_at.as_ref()), (Some(&invitation.id), Some(&invitation.expires_at)));
        let existing = Entity { name: "Old name".into(), pending: false, connected: Some(Relationship::Buyer), created_at: "2020-01-01T00:00:00Z".into(), ..new.clone() };
        let renewed = pending_entity(Some(existing.clone()), "Acme", &invitation, &now);
        assert_eq!((renewed.name.as_str(), renewed.pending, renewed.connected, &renewed.created_at), ("Old name", true, Some(Relationship::Buyer), &existing.created_at));
    }

    #[test]
    fn pending_turns_expired_at_its_expiry() {
        let inv = sample(InvitationStatus::Pending, Direction::Received);
        assert_eq!(inv.effective_status(BEFORE), InvitationStatus::Pending);
        assert_eq!(inv.effective_status(AFTER), InvitationStatus::Expired);
        assert_eq!(inv.as_seen_at(AFTER).status, InvitationStatus::Expired);
    }

    #[test]
    fn only_live_invitations_can_be_answered() {
        assert!(sample(InvitationStatus::Pending, Direction::Received).check_answerable(BEFORE).is_ok());
        let expired = sample(InvitationStatus::Pending, Direction::Received).check_answerable(AFTER);
        assert!(matches!(expired.unwrap_err(), Refusal::Expired(_)));
        for status in [InvitationStatus::Accepted, InvitationStatus::Declined, InvitationStatus::Revoked] {
            let err = sample(status, Direction::Received).check_answerable(BEFORE).unwrap_err();
            assert!(matches!(err, Refusal::Conflict(_)));
            assert!(err.detail().contains(status.as_str()), "{err:?} should say {status:?}");
        }
    }

    #[test]
    fn only_the_inviter_resends_or_revokes() {
        let received = sample(InvitationStatus::Pending, Direction::Received);
        assert!(matches!(received.check_resendable(BEFORE).unwrap_err(), Refusal::NotAllowed(_)));
        assert!(matches!(received.check_revocable(BEFORE).unwrap_err(), Refusal::NotAllowed(_)));
        let sent = sample(InvitationStatus::Pending, Direction::Sent);
        assert!(sent.check_resendable(AFTER).is_ok(), "an expired invitation can be renewed");
        assert!(sent.check_revocable(BEFORE).is_ok());
        let accepted = sample(InvitationStatus::Accepted, Direction::Sent);
        assert!(matches!(accepted.check_resendable(BEFORE).unwrap_err(), Refusal::Conflict(_)));
        assert!(matches!(accepted.check_revocable(BEFORE).unwrap_err(), Refusal::Conflict(_)));
    }

    #[test]
    fn an_email_invitation_stays_addressed_to_the_email() {
        let mut inv = sample(InvitationStatus::Pending, Direction::Sent);
        assert_eq!(inv.invitee(), Invitee::Email("buyer@example.com".into()));
        let account = Id::generate();
        inv.invitee_account = Some(AccountRef { id: account.clone(), name: "Buyer".into() });
        assert_eq!(inv.invitee(), Invitee::Email("buyer@example.com".into()), "the account owning the address changes nothing");
        inv.invitee_email = None;
        assert_eq!(inv.invitee(), Invitee::Account(account));
    }

    #[test]
    fn an_inviter_sees_the_invited_account_only_once_it_accepts() {
        let account = AccountRef { id: Id::generate(), name: "Buyer".into() };
        let mut sent = sample(InvitationStatus::Pending, Direction::Sent);
        sent.invitee_account = Some(account.clone());
        assert_eq!(sent.clone().as_seen_at(BEFORE).invitee_account, None);
        let received = Invitation { direction: Direction::Received, ..sent.clone() };
        assert_eq!(received.as_seen_at(BEFORE).invitee_account, Some(account.clone()), "the invitee sees itself");
        let accepted = Invitation { status: InvitationStatus::Accepted, ..sent.clone() };
        assert_eq!(accepted.as_seen_at(BEFORE).invitee_account, Some(account.clone()));
        let by_account = Invitation { invitee_email: None, ..sent };
        assert_eq!(by_account.as_seen_at(BEFORE).invitee_account, Some(account), "invited by account id: the inviter named it");
    }
}
