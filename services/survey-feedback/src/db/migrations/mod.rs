use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000300_create_surveys;
mod m20261127_000400_create_suggestions;
mod m20261127_000500_create_stories;
mod m20261127_000600_real_surveys;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = valued_platform::migrations::messaging();
        migrations.extend(valued_platform::migrations::limits());
        migrations.extend(valued_platform::migrations::access());
        migrations.push(Box::new(m20261122_000300_create_surveys::Migration));
        migrations.push(Box::new(m20261127_000400_create_suggestions::Migration));
        migrations.push(Box::new(m20261127_000500_create_stories::Migration));
        migrations.push(Box::new(m20261127_000600_real_surveys::Migration));
        migrations
    }
}
