//! The survey-feedback service's database: surveys and their anonymous responses.

pub mod entities;
mod migrations;
pub mod queries;

pub use migrations::Migrator;
