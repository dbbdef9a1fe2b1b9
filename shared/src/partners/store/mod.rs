//! The partners area's items: invitations, entities, connections, audit events.

pub mod acceptance;
pub mod audit;
pub mod connections;
pub mod entities;
pub mod figures;
pub mod invitations;

/// The partners area's part of the table: invitations, entities, connections and their audit trail.
#[derive(Clone, Copy, Debug)]
pub struct PartnersTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The partners area's part of the table: invitations, entities, connections and their audit trail.
    pub fn partners(&self) -> PartnersTable<'_> {
        PartnersTable { db: self }
    }
}
