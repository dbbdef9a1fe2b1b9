//! Partners: accounts invite partners, accepting creates a connection, and both sides keep an
//! entity for each other and an audit trail.

/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::partners`.
pub use ::domain::partners as domain;
#[cfg(feature = "mail")]
pub mod inviter;
#[cfg(feature = "mail")]
pub mod notices;
pub mod settings;
