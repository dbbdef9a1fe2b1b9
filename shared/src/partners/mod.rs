//! Partners: accounts invite partners, accepting creates a connection, and both sides keep an
//! entity for each other and an audit trail.

pub mod domain;
#[cfg(feature = "mail")]
pub mod inviter;
pub mod settings;
