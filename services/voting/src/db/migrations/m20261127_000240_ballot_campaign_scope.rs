use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who runs a campaign's public vote, and ballots per region. Each campaign ballot keeps its
/// campaign's scope as the newest `finalist.announced.v1` says (`trust`, `region` or `national`,
/// and the trust or region code): its trust or region admins may run the vote, platform admins
/// always. Ballots made before, or by hand, have none: platform admins only, until the next
/// announcement. A campaign voting per region has a ballot per (campaign, category, region); one
/// voting per category keeps the region empty, so the ballot stays one per (campaign, category).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text(Ballot::CampaignScope).default("").to_owned(),
            text(Ballot::CampaignScopeCode).default("").to_owned(),
            text(Ballot::RegionCode).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Ballot::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ballot_one_per_campaign_category_region")
                    .table(Ballot::Table)
                    .col(Ballot::CampaignId)
                    .col(Ballot::CategoryId)
                    .col(Ballot::RegionCode)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ballot_one_per_campaign_category")
                    .table(Ballot::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Ballot {
    Table,
    CampaignId,
    CategoryId,
    CampaignScope,
    CampaignScopeCode,
    RegionCode,
}
