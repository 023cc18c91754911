//! The notification service's database: deliveries, one row per (event, recipient, template).

pub mod delivery;
mod migrations;

pub use migrations::Migrator;
