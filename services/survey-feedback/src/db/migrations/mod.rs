use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000300_create_surveys;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = valued_platform::migrations::messaging();
        migrations.extend(valued_platform::migrations::limits());
        migrations.extend(valued_platform::migrations::access());
        migrations.push(Box::new(m20261122_000300_create_surveys::Migration));
        migrations
    }
}
