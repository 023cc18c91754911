use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Nomination::Table)
                    .if_not_exists()
                    .col(uuid(Nomination::Id).primary_key())
                    .col(uuid(Nomination::CampaignId))
                    .col(uuid(Nomination::CategoryId))
                    .col(string_len(Nomination::TrustCode, 5))
                    .col(text(Nomination::NomineeName))
                    .col(text(Nomination::NomineeJobTitle))
                    .col(text(Nomination::StaffGroup))
                    .col(text(Nomination::Story))
                    .col(text(Nomination::NominatorName))
                    .col(text(Nomination::NominatorEmail))
                    .col(text(Nomination::Relationship))
                    .col(text(Nomination::Status))
                    .col(timestamp_with_time_zone(Nomination::SubmittedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nomination::Table, Nomination::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nomination::Table, Nomination::CategoryId)
                            .to(Category::Table, Category::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nomination::Table, Nomination::TrustCode)
                            .to(Trust::Table, Trust::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nomination_by_campaign_trust")
                    .table(Nomination::Table)
                    .col(Nomination::CampaignId)
                    .col(Nomination::TrustCode)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
    CampaignId,
    CategoryId,
    TrustCode,
    NomineeName,
    NomineeJobTitle,
    StaffGroup,
    Story,
    NominatorName,
    NominatorEmail,
    Relationship,
    Status,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Trust {
    Table,
    Code,
}
