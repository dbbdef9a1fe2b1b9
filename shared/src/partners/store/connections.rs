//! Connections: read from the caller's own copy; revocation ends both sides at once.

use aws_sdk_dynamodb::types::AttributeValue;

use super::PartnersTable;
use crate::partners::domain::AuditAction;
use crate::store::partners::audit::Audit;
use crate::store::tx::{Part, TxError, UpdateError, Write, busy};
use crate::platform::accounts::Caller;
use crate::partners::domain::invitation::Invitee;
use crate::partners::domain::documentation::RelationshipDocs;
use crate::partners::domain::{AuditEvent, Connection, ConnectionStatus};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, prefix};
use crate::store::lists::{Page, PageRequest};
use crate::platform::time;

impl PartnersTable<'_> {
    /// The account's connections, each seen from its side, newest first.
    pub async fn connections(&self, account: &Id, page: &PageRequest) -> Result<Page<Connection>, ApiError> {
        self.db.list(account, prefix::CONNECTION, page, None).await
    }

    /// The account's audit trail, newest first.
    pub async fn audit_events(&self, account: &Id, page: &PageRequest) -> Result<Page<AuditEvent>, ApiError> {
        self.db.list(account, prefix::AUDIT, page, None).await
    }

    /// By connection id, or by the id of the invitation that created it (LeadConduit accepts both).
    pub async fn connection(&self, account: &Id, id: &Id) -> Result<Option<Connection>, ApiError> {
        if let Some(connection) = self.connection_by_id(account, id).await? {
            return Ok(Some(connection));
        }
        match self.invitation(account, id).await?.and_then(|invitation| invitation.connection_id) {
            Some(connection_id) => self.connection_by_id(account, &connection_id).await,
            None => Ok(None),
        }
    }

    /// The account's copy of a connection, by its id only.
    pub async fn connection_by_id(&self, account: &Id, id: &Id) -> Result<Option<Connection>, ApiError> {
        self.db.get_as(&keys::connection(account, id)).await
    }

    /// Replaces what the account records about one of its connections (its own copy only: the
    /// partner's copy, and what it records, are untouched).
    pub async fn document_connection(&self, account: &Id, id: &Id, documentation: &RelationshipDocs) -> Result<Connection, ApiError> {
        let connection = self.connection(account, id).await?.ok_or(ApiError::NotFound("connection"))?;
        let write = Write::update(Part::Connection, keys::connection(account, &connection.id))
            .set("documentation", keys::value(documentation)?)
            .only_if("attribute_exists(#pk)");
        match self.db.update_returning(write).await {
            Ok(item) => keys::parse(item),
            Err(UpdateError::Condition(_)) => Err(ApiError::NotFound("connection")),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// Whether the connection's submission documents may be emailed now (not in the last
    /// `period`), recording the send if so.
    pub async fn may_send_submission_docs(&self, connection: &Id, period: std::time::Duration) -> Result<bool, ApiError> {
        self.db.first_within(keys::submission_docs_throttle(connection), keys::ItemType::SubmissionDocsThrottle, period).await
    }

    /// Either party revokes; from the commit on, neither side's copy is active.
    pub async fn revoke_connection(&self, caller: &Caller, id: &Id) -> Result<Connection, ApiError> {
        let connection = self.connection(&caller.account_id, id).await?.ok_or(ApiError::NotFound("connection"))?;
        if connection.status == ConnectionStatus::Revoked {
            return Err(ApiError::Conflict(format!("connection {} is already revoked", connection.id)));
        }
        let now = time::now();
        let (own, partner) = (&connection.account_id, &connection.connected_account.id);
        let sides = [(own, partner, &connection.entity_id), (partner, own, &connection.partner_entity_id)];
        let mut writes = vec![];
        for (account, other, entity) in sides {
            writes.push(
                Write::update(Part::Connection, keys::connection(account, &connection.id))
                    .set("status", keys::value(&ConnectionStatus::Revoked)?)
                    .set("revoked_at", keys::string(now.as_str()))
                    .set("revoked_by", keys::string(caller.user_email.as_str()))
                    .set("updated_at", keys::string(now.as_str()))
                    .only_if("#status = :active")
                    .value(":active", keys::value(&ConnectionStatus::Active)?),
            );
            writes.push(
                Write::update(Part::Entity, keys::entity(account, entity))
                    .set("connected", AttributeValue::Null(true))
                    .set("connection_id", AttributeValue::Null(true))
                    .set("former_connection_id", keys::value(&connection.id)?)
                    .set("updated_at", keys::string(now.as_str())),
            );
            writes.push(
                Write::update(Part::Partner, keys::partner(account, &Invitee::Account(other.clone())))
                    .remove("connection_id")
                    .only_if("#connection_id = :id")
                    .value(":id", keys::value(&connection.id)?),
            );
        }
        // An invitation to an address connected through that address's record too: free it.
        let invitation = self.invitation(own, &connection.invitation_id).await?;
        if let Some(invitation) = invitation.filter(|i| i.invitee_email.is_some()) {
            writes.push(
                Write::update(Part::PartnerAddress, keys::partner(&invitation.inviter.id, &invitation.invitee()))
                    .remove("connection_id")
                    .only_if("#connection_id = :id")
                    .value(":id", keys::value(&connection.id)?),
            );
        }
        let audit = Audit { event: AuditAction::ConnectionRevoked, actor: &caller.user_email, subject_id: &connection.id, at: &now };
        writes.extend(audit.writes_for_both(own, Some(partner))?);
        self.db.transact(writes).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict(format!("connection {} was changed concurrently (already revoked?)", connection.id)),
        })?;
        Ok(Connection {
            status: ConnectionStatus::Revoked,
            revoked_at: Some(now.clone()),
            revoked_by: Some(caller.user_email.clone()),
            updated_at: now,
            ..connection
        })
    }
}

/// The write that marks one copy of an active connection as set up for buyer delivery (the
/// onboards area commits it with the flows it plans): fails if the connection was revoked or
/// set up meanwhile.
pub(in crate::store) fn buyer_delivery_configured(owner: &Id, connection: &Id, buyer_flow: &Id, now: &time::Timestamp) -> Result<Write, ApiError> {
    Ok(Write::update(Part::Connection, keys::connection(owner, connection))
        .set("buyer_delivery_configured", AttributeValue::Bool(true))
        .set("buyer_delivery_configured_at", keys::string(now.as_str()))
        .set("buyer_flow_id", keys::value(buyer_flow)?)
        .set("updated_at", keys::string(now.as_str()))
        .only_if("#status = :active AND #buyer_delivery_configured = :false")
        .value(":active", keys::value(&ConnectionStatus::Active)?)
        .value(":false", AttributeValue::Bool(false)))
}

impl PartnersTable<'_> {
    /// The right to send the seller email for a set-up connection, held until `until` on the
    /// buyer's copy: `false` if it was sent already or another worker holds a live lease.
    pub async fn take_notify_lease(&self, connection: &Connection, until: &str) -> Result<bool, ApiError> {
        let lease = Write::update(Part::Connection, keys::connection(&connection.account_id, &connection.id))
            .set("notify_lease_until", keys::string(until))
            .only_if("attribute_not_exists(#sellers_notified_at) AND (attribute_not_exists(#notify_lease_until) OR #notify_lease_until < :now)")
            .value(":now", keys::string(time::now()));
        match self.db.update_returning(lease).await {
            Ok(_) => Ok(true),
            Err(UpdateError::Condition(_)) => Ok(false),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// The seller email was sent: no lease is granted again.
    pub async fn mark_sellers_notified(&self, connection: &Connection) -> Result<(), ApiError> {
        let sent = Write::update(Part::Connection, keys::connection(&connection.account_id, &connection.id)).set("sellers_notified_at", keys::string(time::now()));
        self.db.update_returning(sent).await.map(drop).map_err(|e| match e {
            UpdateError::Other(e) => e,
            UpdateError::Condition(_) => ApiError::Internal("unconditional update failed its condition".into()),
        })
    }
}
