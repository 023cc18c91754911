//! The nomination service's database: organisations, campaigns, categories and nominations.

pub mod campaigns;
pub mod entities;
mod migrations;
pub mod queries;
pub mod seed;

pub use migrations::Migrator;
