//! The tables every service has in the same shape: the outbox and the inbox. Each service's migrator
//! lists these before its own.

use sea_orm_migration::MigrationTrait;

mod m20261122_000001_create_outbox;
mod m20261122_000002_create_inbox;

pub fn messaging() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261122_000001_create_outbox::Migration),
        Box::new(m20261122_000002_create_inbox::Migration),
    ]
}

/// The outbox and inbox tables alone, for the platform's own tests.
#[cfg(test)]
pub(crate) struct Messaging;

#[cfg(test)]
impl sea_orm_migration::MigratorTrait for Messaging {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        messaging()
    }
}
