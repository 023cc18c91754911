use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000100_create_organisations_and_campaigns;
mod m20261122_000101_create_nominations;
mod m20261122_000102_create_regions_and_sites;
mod m20261122_000103_campaign_scope_and_windows;
mod m20261122_000104_nomination_duplicates;
mod m20261122_000105_create_nominees;
mod m20261122_000106_pay_bands;
mod m20261122_000107_nomination_lifecycle;
mod m20261122_000108_role_grant_subject_and_revocation;
mod m20261126_000109_role_grant_version;
mod m20261126_000110_consent_record;
mod m20261126_000111_erasure;
mod m20261126_000112_nominee_address;
mod m20261126_000113_vote_notice;
mod m20261127_000114_campaign_vote_per_region;
mod m20261127_000115_sign_in_link;
mod m20261127_000116_campaign_item;
mod m20261127_000117_trust_sender_and_domains;
mod m20261127_000118_campaign_nominations_per_nominator;
mod m20261127_000119_learning_route;
mod m20261127_000120_trust_learning_route;
mod m20261127_000125_campaign_file;
mod m20261127_000135_organisation_import;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = valued_platform::migrations::messaging();
        migrations.extend(valued_platform::migrations::limits());
        migrations.push(Box::new(
            m20261122_000100_create_organisations_and_campaigns::Migration,
        ));
        migrations.push(Box::new(m20261122_000101_create_nominations::Migration));
        migrations.push(Box::new(
            m20261122_000102_create_regions_and_sites::Migration,
        ));
        migrations.push(Box::new(
            m20261122_000103_campaign_scope_and_windows::Migration,
        ));
        migrations.push(Box::new(m20261122_000104_nomination_duplicates::Migration));
        migrations.push(Box::new(m20261122_000105_create_nominees::Migration));
        migrations.push(Box::new(m20261122_000106_pay_bands::Migration));
        migrations.push(Box::new(m20261122_000107_nomination_lifecycle::Migration));
        migrations.push(Box::new(
            m20261122_000108_role_grant_subject_and_revocation::Migration,
        ));
        migrations.push(Box::new(m20261126_000109_role_grant_version::Migration));
        migrations.push(Box::new(m20261126_000110_consent_record::Migration));
        migrations.push(Box::new(m20261126_000111_erasure::Migration));
        migrations.push(Box::new(m20261126_000112_nominee_address::Migration));
        migrations.push(Box::new(m20261126_000113_vote_notice::Migration));
        migrations.push(Box::new(
            m20261127_000114_campaign_vote_per_region::Migration,
        ));
        migrations.push(Box::new(m20261127_000115_sign_in_link::Migration));
        migrations.push(Box::new(m20261127_000116_campaign_item::Migration));
        migrations.push(Box::new(
            m20261127_000117_trust_sender_and_domains::Migration,
        ));
        migrations.push(Box::new(
            m20261127_000118_campaign_nominations_per_nominator::Migration,
        ));
        migrations.push(Box::new(m20261127_000119_learning_route::Migration));
        migrations.push(Box::new(m20261127_000120_trust_learning_route::Migration));
        migrations.push(Box::new(m20261127_000125_campaign_file::Migration));
        migrations.push(Box::new(m20261127_000135_organisation_import::Migration));
        migrations.extend(valued_platform::migrations::idempotency());
        migrations
    }
}
