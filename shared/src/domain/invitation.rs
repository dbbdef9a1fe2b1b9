//! Invitations: who may do what to one, and when.

use serde::{Deserialize, Serialize};

use super::{AccountRef, Relationship};
use crate::error::ApiError;
use crate::id::Id;
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
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
    pub fn check_answerable(&self, now: &str) -> Result<(), ApiError> {
        match self.effective_status(now) {
            InvitationStatus::Pending => Ok(()),
            InvitationStatus::Expired => {
                Err(ApiError::Gone(format!("invitation {} expired at {}", self.id, self.expires_at)))
            }
            other => Err(ApiError::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    /// Resending renews a pending or expired invitation; answered ones are final.
    pub fn check_resendable(&self, now: &str) -> Result<(), ApiError> {
        self.check_direction(Direction::Sent, "resend")?;
        match self.effective_status(now) {
            InvitationStatus::Pending | InvitationStatus::Expired => Ok(()),
            other => Err(ApiError::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    /// The inviter may withdraw an invitation until it is answered.
    pub fn check_revocable(&self, now: &str) -> Result<(), ApiError> {
        self.check_direction(Direction::Sent, "revoke")?;
        match self.effective_status(now) {
            InvitationStatus::Pending | InvitationStatus::Expired => Ok(()),
            other => Err(ApiError::Conflict(format!("invitation {} is already {}", self.id, other.as_str()))),
        }
    }

    pub fn check_direction(&self, required: Direction, action: &str) -> Result<(), ApiError> {
        if self.direction == required {
            Ok(())
        } else if required == Direction::Sent {
            Err(ApiError::Forbidden(format!("only the inviting account can {action} invitation {}", self.id)))
        } else {
            Err(ApiError::Forbidden(format!("only the invited account can {action} invitation {}", self.id)))
        }
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
    use crate::domain::invitation::sample;

    const BEFORE: &str = "2029-12-31T23:59:59Z";
    const AFTER: &str = "2030-01-01T00:00:00Z";

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
        assert_eq!(expired.unwrap_err().status().as_u16(), 410);
        for status in [InvitationStatus::Accepted, InvitationStatus::Declined, InvitationStatus::Revoked] {
            let err = sample(status, Direction::Received).check_answerable(BEFORE).unwrap_err();
            assert_eq!(err.status().as_u16(), 409);
            assert!(err.details().contains(status.as_str()), "{err:?} should say {status:?}");
        }
    }

    #[test]
    fn only_the_inviter_resends_or_revokes() {
        let received = sample(InvitationStatus::Pending, Direction::Received);
        assert_eq!(received.check_resendable(BEFORE).unwrap_err().status().as_u16(), 403);
        assert_eq!(received.check_revocable(BEFORE).unwrap_err().status().as_u16(), 403);
        let sent = sample(InvitationStatus::Pending, Direction::Sent);
        assert!(sent.check_resendable(AFTER).is_ok(), "an expired invitation can be renewed");
        assert!(sent.check_revocable(BEFORE).is_ok());
        let accepted = sample(InvitationStatus::Accepted, Direction::Sent);
        assert_eq!(accepted.check_resendable(BEFORE).unwrap_err().status().as_u16(), 409);
        assert_eq!(accepted.check_revocable(BEFORE).unwrap_err().status().as_u16(), 409);
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
