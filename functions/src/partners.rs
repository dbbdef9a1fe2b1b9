//! Partners: invitations, the connections accepting one creates, the entities an account knows
//! and its audit trail.

pub mod audit;
pub mod connections;
pub mod entities;
pub mod invitations;
