//! The onboards area's items: onboards and flows.

pub mod flows;
pub mod onboards;
pub mod setup;

/// The onboards area's part of the table: onboards and flows.
#[derive(Clone, Copy, Debug)]
pub struct OnboardsTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The onboards area's part of the table: onboards and flows.
    pub fn onboards(&self) -> OnboardsTable<'_> {
        OnboardsTable { db: self }
    }
}
