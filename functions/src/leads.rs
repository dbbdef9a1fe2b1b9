//! Leads: submitted by connected sources, listed by the flow's account, delivered by buyer steps.

pub mod delivery;
pub mod figures;
#[allow(clippy::module_inception)]
pub mod leads;
pub mod reports;
pub mod submissions;
