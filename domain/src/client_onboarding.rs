//! The client onboarding area's rules, pure (no AWS).

pub mod campaign;
pub mod webhook_endpoint;
