use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The consent history: every answer a nominee gives, dated, never changed.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsentRecord::Table)
                    .if_not_exists()
                    .col(uuid(ConsentRecord::Id).primary_key())
                    .col(uuid(ConsentRecord::NomineeId))
                    .col(boolean(ConsentRecord::ListedPublicly))
                    .col(boolean(ConsentRecord::StoryPublished))
                    .col(boolean(ConsentRecord::SharedWithMp))
                    .col(timestamp_with_time_zone(ConsentRecord::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("consent_record_by_nominee")
                    .table(ConsentRecord::Table)
                    .col(ConsentRecord::NomineeId)
                    .col(ConsentRecord::RecordedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsentRecord {
    Table,
    Id,
    NomineeId,
    ListedPublicly,
    StoryPublished,
    SharedWithMp,
    RecordedAt,
}
