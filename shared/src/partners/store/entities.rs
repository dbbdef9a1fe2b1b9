//! Entities: the partners an account knows, pending or connected.

use std::collections::HashMap;

use super::PartnersTable;
use crate::partners::domain::Entity;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, prefix};
use crate::store::lists::{Page, PageRequest};

impl PartnersTable<'_> {
    pub async fn entity(&self, account: &Id, id: &Id) -> Result<Option<Entity>, ApiError> {
        self.db.get_as(&keys::entity(account, id)).await
    }

    /// The partners the account sees (pending, connected or former), newest first.
    pub async fn entities(&self, account: &Id, page: &PageRequest) -> Result<Page<Entity>, ApiError> {
        self.db.list(account, prefix::ENTITY, page, None).await
    }

    /// The account's entities among `ids` (others' ids simply are not found).
    pub async fn entities_among(&self, account: &Id, ids: &[Id]) -> Result<HashMap<Id, Entity>, ApiError> {
        let keys: Vec<keys::Key> = ids.iter().map(|id| keys::entity(account, id)).collect();
        let items = self.db.get_many(&keys).await?;
        items.into_iter().map(|item| keys::parse::<Entity>(item).map(|e| (e.id.clone(), e))).collect()
    }
}
