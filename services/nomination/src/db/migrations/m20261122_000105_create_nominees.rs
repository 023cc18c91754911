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
                    .table(Nominee::Table)
                    .if_not_exists()
                    .col(uuid(Nominee::Id).primary_key())
                    .col(uuid(Nominee::CampaignId))
                    .col(string_len(Nominee::TrustCode, 5))
                    .col(text(Nominee::Name))
                    .col(text(Nominee::NameKey))
                    .col(text(Nominee::RoleKey))
                    .col(timestamp_with_time_zone(Nominee::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Colleagues nominating the same person meet here: one nominee per campaign, trust,
        // normalised name and normalised role.
        manager
            .create_index(
                Index::create()
                    .name("nominee_once")
                    .table(Nominee::Table)
                    .col(Nominee::CampaignId)
                    .col(Nominee::TrustCode)
                    .col(Nominee::NameKey)
                    .col(Nominee::RoleKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let nominee = ColumnDef::new(Nomination::NomineeId)
            .uuid()
            .null()
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Nomination::Table)
                    .add_column(nominee)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nomination_by_nominee")
                    .table(Nomination::Table)
                    .col(Nomination::NomineeId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Nominee {
    Table,
    Id,
    CampaignId,
    TrustCode,
    Name,
    NameKey,
    RoleKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    NomineeId,
}
