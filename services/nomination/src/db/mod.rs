//! The nomination service's database: its entities and migrations, the loaders the flows share, and
//! the demo seed.

pub mod entities;
pub mod load;
mod migrations;
pub mod seed;

pub use migrations::Migrator;
