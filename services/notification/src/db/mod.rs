//! The notification service's database: deliveries, one row per (event, recipient, template).

pub mod delivery;
mod migrations;
pub mod smtp_rate;
#[cfg(test)]
pub(crate) mod testing;

pub use migrations::Migrator;
