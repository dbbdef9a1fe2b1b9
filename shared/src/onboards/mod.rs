//! Onboards: the buyer's setup record and the flows it uses; an onboard that reaches `completed`
//! runs the buyer delivery setup.

#[cfg(feature = "mail")]
pub mod buyer_setup;
pub use ::domain::onboards as domain;
