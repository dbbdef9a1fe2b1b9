//! The onboards area's items: onboards and flows.

pub mod flows;
pub mod onboards;

crate::platform::store::table_part! {
    /// The onboards area's part of the table: onboards and flows.
    OnboardsTable, onboards
}
