use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_len, string_uniq, text, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Trust::Table)
                    .if_not_exists()
                    .col(string_len(Trust::Code, 5).primary_key())
                    .col(text(Trust::Name))
                    .col(text(Trust::Region))
                    .col(text(Trust::AdminEmail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .if_not_exists()
                    .col(uuid(Campaign::Id).primary_key())
                    .col(string_uniq(Campaign::Slug))
                    .col(text(Campaign::Name))
                    .col(text(Campaign::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignTrust::Table)
                    .if_not_exists()
                    .col(uuid(CampaignTrust::CampaignId))
                    .col(string_len(CampaignTrust::TrustCode, 5))
                    .primary_key(
                        Index::create()
                            .col(CampaignTrust::CampaignId)
                            .col(CampaignTrust::TrustCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignTrust::Table, CampaignTrust::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignTrust::Table, CampaignTrust::TrustCode)
                            .to(Trust::Table, Trust::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Category::Table)
                    .if_not_exists()
                    .col(uuid(Category::Id).primary_key())
                    .col(uuid(Category::CampaignId))
                    .col(text(Category::Name))
                    .col(text(Category::Description))
                    .col(integer(Category::WordLimit))
                    .col(integer(Category::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Category::Table, Category::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Trust {
    Table,
    Code,
    Name,
    Region,
    AdminEmail,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    Slug,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum CampaignTrust {
    Table,
    CampaignId,
    TrustCode,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    Id,
    CampaignId,
    Name,
    Description,
    WordLimit,
    Position,
}
