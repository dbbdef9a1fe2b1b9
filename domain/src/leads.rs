//! The leads area's rules, pure (no AWS): what a flow makes of a submission, what a buyer step's
//! delivery comes to, and the submission documents.

pub mod delivery;
pub mod docs;
pub mod figures;
pub mod lead;
pub mod reports;
