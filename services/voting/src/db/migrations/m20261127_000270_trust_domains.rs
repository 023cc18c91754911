use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// This service's copy of each trust's staff work-email domains and region, as the trust's admins
/// set them in the nomination service (`trust.settings_changed.v1`), with when they changed so
/// that an older copy arriving late changes nothing; and whether a campaign's staff-only vote
/// takes the domains of the trusts taking part (`vote_eligibility.trust_domains`).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrustWorkDomains::Table)
                    .if_not_exists()
                    .col(text(TrustWorkDomains::TrustCode).primary_key())
                    .col(text(TrustWorkDomains::RegionCode).default(""))
                    .col(text(TrustWorkDomains::Domains).default(""))
                    .col(timestamp_with_time_zone(TrustWorkDomains::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("trust_work_domains_by_region")
                    .table(TrustWorkDomains::Table)
                    .col(TrustWorkDomains::RegionCode)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(VoteEligibility::Table)
                    .add_column(boolean(VoteEligibility::TrustDomains).default(false))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TrustWorkDomains {
    Table,
    TrustCode,
    RegionCode,
    Domains,
    ChangedAt,
}

#[derive(DeriveIden)]
enum VoteEligibility {
    Table,
    TrustDomains,
}
