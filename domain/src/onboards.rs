//! The onboards area's rules, pure (no AWS).

pub mod buyer_setup;
pub mod criteria;
pub mod email;
pub mod flow;
pub mod onboard;
