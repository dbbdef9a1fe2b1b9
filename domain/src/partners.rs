//! The partners area's rules, pure (no AWS): entities, connections, invitations and their audit
//! trail. The structs are both what the API returns and the attributes stored in DynamoDB (keys are
//! added by `crate::store::keys`).

pub mod acceptance;
pub mod documentation;
pub mod email;
pub mod invitation;

use serde::{Deserialize, Serialize};

use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// The role a partner plays for the account looking at it: a `buyer` receives leads from this
/// account, a `seller` sends leads to it, `both` does both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    Seller,
    Buyer,
    Both,
}

impl Relationship {
    /// The same relationship seen from the partner's side.
    pub fn flipped(self) -> Relationship {
        match self {
            Relationship::Seller => Relationship::Buyer,
            Relationship::Buyer => Relationship::Seller,
            Relationship::Both => Relationship::Both,
        }
    }
}

/// A company this account exchanges leads with (LeadConduit's "entity"). Created pending by an
/// invitation, connected when it is accepted, and mirrored in the partner's account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: Id,
    pub name: String,
    pub pending: bool,
    pub connected: Option<Relationship>,
    pub connected_account_id: Option<Id>,
    pub connection_id: Option<Id>,
    /// The connection a revoked partner had, until it connects again (a lead step to it fails,
    /// and is counted on that connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_connection_id: Option<Id>,
    pub invitation_id: Option<Id>,
    pub invitation_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Entity {
    /// A partner the account has just come to know, neither invited nor connected yet.
    pub fn new(id: Id, name: &str, now: &Timestamp) -> Entity {
        Entity {
            id,
            name: name.to_string(),
            pending: false,
            connected: None,
            connected_account_id: None,
            connection_id: None,
            former_connection_id: None,
            invitation_id: None,
            invitation_expires_at: None,
            created_at: now.clone(),
            updated_at: now.clone(),
        }
    }

    /// The entity as the API shows it at `now`: with `expired` for a lapsed pending invitation.
    pub fn view(&self, now: &str) -> EntityView<'_> {
        let expired = self.pending && self.invitation_expires_at.as_deref().is_some_and(|at| at <= now);
        EntityView { entity: self, expired }
    }
}

#[derive(Debug, Serialize)]
pub struct EntityView<'a> {
    #[serde(flatten)]
    pub entity: &'a Entity,
    pub expired: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountRef {
    pub id: Id,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    Active,
    Revoked,
}

/// One side's view of a connection between two accounts. Both sides hold a copy under their own
/// partition; changes update both in one transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: Id,
    pub account_id: Id,
    pub connected_account: AccountRef,
    pub invitation_id: Id,
    /// The partner's role from this side.
    pub relationship_type: Relationship,
    pub status: ConnectionStatus,
    pub buyer_delivery_configured: bool,
    pub buyer_delivery_configured_at: Option<Timestamp>,
    /// The buyer's receiving flow, once the buyer delivery setup ran.
    #[serde(default)]
    pub buyer_flow_id: Option<Id>,
    /// The inviting user's email.
    pub created_by: String,
    pub entity_id: Id,
    pub partner_entity_id: Id,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    /// Leads the seller's buyer steps delivered over this connection and the buyer's flow
    /// accepted, that it rejected, and that could not be delivered; the same on both sides.
    #[serde(default)]
    pub leads_delivered: u64,
    #[serde(default)]
    pub leads_rejected: u64,
    #[serde(default)]
    pub leads_failed: u64,
    #[serde(default)]
    pub last_delivery_at: Option<Timestamp>,
    /// What this side records about the relationship (never the partner's).
    #[serde(default)]
    pub documentation: Option<documentation::RelationshipDocs>,
}

/// What an audit event records; its name is what the trail shows (`invitation.sent`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "invitation.sent")]
    InvitationSent,
    #[serde(rename = "invitation.resent")]
    InvitationResent,
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    #[serde(rename = "invitation.declined")]
    InvitationDeclined,
    #[serde(rename = "invitation.revoked")]
    InvitationRevoked,
    #[serde(rename = "invitation.expired")]
    InvitationExpired,
    #[serde(rename = "connection.created")]
    ConnectionCreated,
    #[serde(rename = "connection.revoked")]
    ConnectionRevoked,
    #[serde(rename = "connection.buyer_delivery_configured")]
    ConnectionBuyerDeliveryConfigured,
}

impl AuditAction {
    /// What the event is about: an invitation or a connection.
    pub fn subject_type(self) -> SubjectType {
        use AuditAction::*;
        match self {
            InvitationSent | InvitationResent | InvitationAccepted | InvitationDeclined | InvitationRevoked | InvitationExpired => SubjectType::Invitation,
            ConnectionCreated | ConnectionRevoked | ConnectionBuyerDeliveryConfigured => SubjectType::Connection,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    Invitation,
    Connection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: Id,
    pub account_id: Id,
    pub event: AuditAction,
    /// The acting user's email, or `system`.
    pub actor: String,
    pub subject_type: SubjectType,
    pub subject_id: Id,
    pub partner_account_id: Option<Id>,
    pub at: Timestamp,
}

/// A connection as one side holds it, for other areas' tests: active, set up for nothing yet.
#[cfg(test)]
pub(crate) fn test_connection(relationship: Relationship, partner: &str) -> Connection {
    Connection {
        id: Id::generate(),
        account_id: Id::generate(),
        connected_account: AccountRef { id: Id::generate(), name: partner.into() },
        invitation_id: Id::generate(),
        relationship_type: relationship,
        status: ConnectionStatus::Active,
        buyer_delivery_configured: false,
        buyer_delivery_configured_at: None,
        buyer_flow_id: None,
        created_by: "s@example.com".into(),
        entity_id: Id::generate(),
        partner_entity_id: Id::generate(),
        created_at: "2019-08-24T14:15:22Z".into(),
        updated_at: "2019-08-24T14:15:22Z".into(),
        revoked_at: None,
        revoked_by: None,
        leads_delivered: 0,
        leads_rejected: 0,
        leads_failed: 0,
        last_delivery_at: None,
        documentation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationships_flip_to_the_partners_view() {
        assert_eq!(Relationship::Buyer.flipped(), Relationship::Seller);
        assert_eq!(Relationship::Seller.flipped(), Relationship::Buyer);
        assert_eq!(Relationship::Both.flipped(), Relationship::Both);
    }

    #[test]
    fn an_entity_is_expired_only_while_pending_past_its_invitation() {
        let entity = Entity {
            id: Id::generate(),
            name: "Buyer".into(),
            pending: true,
            connected: None,
            connected_account_id: None,
            connection_id: None,
            former_connection_id: None,
            invitation_id: Some(Id::generate()),
            invitation_expires_at: Some("2030-01-01T00:00:00Z".into()),
            created_at: "2029-12-01T00:00:00Z".into(),
            updated_at: "2029-12-01T00:00:00Z".into(),
        };
        assert!(!entity.view("2029-12-31T00:00:00Z").expired);
        assert!(entity.view("2030-01-01T00:00:00Z").expired);
        let json = serde_json::to_value(entity.view("2030-01-02T00:00:00Z")).unwrap();
        assert_eq!(json["expired"], true);
        assert_eq!(json["name"], "Buyer");
        let connected = Entity { pending: false, ..entity };
        assert!(!connected.view("2031-01-01T00:00:00Z").expired);
    }
}
