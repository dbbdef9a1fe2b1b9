//! Audit events are written in the same transaction as the change they record.

use crate::store::tx::{Part, Write};
use crate::partners::domain::{AuditAction, AuditEvent};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType};
use crate::platform::time::Timestamp;

/// What happened, to what, by whom; `audit::write` turns it into one account's event.
pub(in crate::store) struct Audit<'a> {
    pub event: AuditAction,
    pub actor: &'a str,
    pub subject_id: &'a Id,
    pub at: &'a Timestamp,
}

impl Audit<'_> {
    /// The event as recorded in `account`'s trail, naming the other account involved.
    pub(in crate::store) fn write(&self, account: &Id, partner: Option<&Id>) -> Result<Write, ApiError> {
        let event = AuditEvent {
            id: Id::generate(),
            account_id: account.clone(),
            event: self.event,
            actor: self.actor.to_string(),
            subject_type: self.event.subject_type(),
            subject_id: self.subject_id.clone(),
            partner_account_id: partner.cloned(),
            at: self.at.clone(),
        };
        let key = keys::audit(account, &event.id);
        Ok(Write::put(Part::Audit, key.clone(), keys::item(&key, ItemType::Audit, &event)?))
    }

    /// The same event in both parties' trails.
    pub(in crate::store) fn writes_for_both(&self, a: &Id, b: Option<&Id>) -> Result<Vec<Write>, ApiError> {
        let mut writes = vec![self.write(a, b)?];
        if let Some(b) = b {
            writes.push(self.write(b, Some(a))?);
        }
        Ok(writes)
    }
}
