use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which finalists were told of their public vote's moments (`vote_opened`, `results_released`):
/// one row per finalist's nomination and moment, so that a redelivered or repeated moment tells
/// nobody twice.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VoteNotice::Table)
                    .if_not_exists()
                    .col(uuid(VoteNotice::NominationId))
                    .col(text(VoteNotice::Notice))
                    .col(timestamp_with_time_zone(VoteNotice::At))
                    .primary_key(
                        Index::create()
                            .col(VoteNotice::NominationId)
                            .col(VoteNotice::Notice),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum VoteNotice {
    Table,
    NominationId,
    Notice,
    At,
}
