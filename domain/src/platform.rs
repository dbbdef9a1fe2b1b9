//! The pure pieces every area uses.

pub mod accounts;
pub mod email;
pub mod id;
pub mod public_url;
pub mod secret;
pub mod signature;
pub mod time;
pub mod validate;
