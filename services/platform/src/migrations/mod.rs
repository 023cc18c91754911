//! The tables every service has in the same shape: the outbox and the inbox. Each service's migrator
//! lists these before its own.

use sea_orm_migration::MigrationTrait;

mod m20261122_000001_create_outbox;
mod m20261122_000002_create_inbox;
mod m20261126_000003_create_role_copy;
mod m20261126_000004_create_rate_limit;
mod m20261128_000005_create_idempotency_key;

pub fn messaging() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261122_000001_create_outbox::Migration),
        Box::new(m20261122_000002_create_inbox::Migration),
    ]
}

/// The copy of admin role grants (`auth::roles`) kept by a service that checks signed-in callers
/// but does not own the grants. Listed after [`messaging`].
pub fn access() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261126_000003_create_role_copy::Migration)]
}

/// The counters of the rate limits on public actions (`limits`). Every service lists it (the host's
/// retention round empties ended windows), right after [`messaging`].
pub fn limits() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261126_000004_create_rate_limit::Migration)]
}

/// The idempotency keys of public submissions (`idempotency`), for a service that takes keyed
/// submissions. Listed after its own migrations.
pub fn idempotency() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261128_000005_create_idempotency_key::Migration)]
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
