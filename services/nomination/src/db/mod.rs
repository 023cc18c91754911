//! The nomination service's database: organisations, campaigns, categories and nominations.

pub mod campaigns;
pub mod confirmation;
pub mod consent;
pub mod drafts;
pub mod entities;
pub mod judging;
mod migrations;
pub mod moderation;
pub mod queries;
pub mod recognition;
pub mod seed;

pub use migrations::Migrator;
