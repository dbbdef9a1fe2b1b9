//! Onboards and flows: a buyer's onboarding record, the flows leads are delivered to, and the
//! buyer delivery setup that runs when an onboard is completed.

pub mod buyer_setup;
pub mod flows;
#[allow(clippy::module_inception)]
pub mod onboards;
