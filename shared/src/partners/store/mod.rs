//! The partners area's items: invitations, entities, connections, audit events.

pub mod audit;
pub mod connections;
pub mod entities;
pub mod invitations;

crate::platform::store::table_part! {
    /// The partners area's part of the table: invitations, entities, connections and their audit trail.
    PartnersTable, partners
}
