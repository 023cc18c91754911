//! The voting service's database: ballots, their choices and votes.

pub mod entities;
mod migrations;
pub mod queries;

pub use migrations::Migrator;
