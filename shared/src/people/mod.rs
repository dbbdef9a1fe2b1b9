//! People: the persons of an account sign in with an emailed one-time link and hold a session
//! (a cookie), which the pages use where programs use an API key.

/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::people`.
pub use ::domain::people as domain;
#[cfg(feature = "mail")]
pub mod sign_in;
