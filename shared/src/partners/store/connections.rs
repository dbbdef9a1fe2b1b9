//! Connections: read from the caller's own copy; revocation ends both sides at once.

use aws_sdk_dynamodb::types::AttributeValue;

use super::PartnersTable;
use crate::partners::store::audit::Audit;
use crate::platform::store::tx::{TxError, Write};
use crate::platform::accounts::Caller;
use crate::partners::domain::invitation::Invitee;
use crate::partners::domain::{AuditEvent, Connection, ConnectionStatus};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::store::keys::{self, prefix};
use crate::platform::store::lists::{Page, PageRequest};
use crate::platform::time;

impl PartnersTable<'_> {
    /// The account's connections, each seen from its side, newest first.
    pub async fn connections(&self, account: &Id, page: &PageRequest) -> Result<Page<Connection>, ApiError> {
        self.list(account, prefix::CONNECTION, page, None).await
    }

    /// The account's audit trail, newest first.
    pub async fn audit_events(&self, account: &Id, page: &PageRequest) -> Result<Page<AuditEvent>, ApiError> {
        self.list(account, prefix::AUDIT, page, None).await
    }

    /// By connection id, or by the id of the invitation that created it (LeadConduit accepts both).
    pub async fn connection(&self, account: &Id, id: &Id) -> Result<Option<Connection>, ApiError> {
        if let Some(connection) = self.get_as(&keys::connection(account, id)).await? {
            return Ok(Some(connection));
        }
        match self.invitation(account, id).await?.and_then(|invitation| invitation.connection_id) {
            Some(connection_id) => self.get_as(&keys::connection(account, &connection_id)).await,
            None => Ok(None),
        }
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
                Write::update("connection", keys::connection(account, &connection.id))
                    .set("status", keys::value(&ConnectionStatus::Revoked)?)
                    .set("revoked_at", keys::string(now.as_str()))
                    .set("revoked_by", keys::string(caller.user_email.as_str()))
                    .set("updated_at", keys::string(now.as_str()))
                    .only_if("#status = :active")
                    .value(":active", keys::value(&ConnectionStatus::Active)?),
            );
            writes.push(
                Write::update("entity", keys::entity(account, entity))
                    .set("connected", AttributeValue::Null(true))
                    .set("connection_id", AttributeValue::Null(true))
                    .set("former_connection_id", keys::value(&connection.id)?)
                    .set("updated_at", keys::string(now.as_str())),
            );
            writes.push(
                Write::update("partner", keys::partner(account, &Invitee::Account(other.clone())))
                    .remove("connection_id")
                    .only_if("#connection_id = :id")
                    .value(":id", keys::value(&connection.id)?),
            );
        }
        // An invitation to an address connected through that address's record too: free it.
        let invitation = self.invitation(own, &connection.invitation_id).await?;
        if let Some(invitation) = invitation.filter(|i| i.invitee_email.is_some()) {
            writes.push(
                Write::update("partner_address", keys::partner(&invitation.inviter.id, &invitation.invitee()))
                    .remove("connection_id")
                    .only_if("#connection_id = :id")
                    .value(":id", keys::value(&connection.id)?),
            );
        }
        let audit = Audit { event: "connection.revoked", actor: &caller.user_email, subject_type: "connection", subject_id: &connection.id, at: &now };
        writes.extend(audit.writes_for_both(own, Some(partner))?);
        self.transact(writes).await.map_err(|err| match err {
            TxError::Other(e) => e,
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
