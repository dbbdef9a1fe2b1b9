//! Onboards: the buyer's setup record and the flows it uses; an onboard that reaches `completed`
//! runs the buyer delivery setup.

#[cfg(feature = "mail")]
pub mod buyer_setup;
/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::onboards`.
pub use ::domain::onboards as domain;
