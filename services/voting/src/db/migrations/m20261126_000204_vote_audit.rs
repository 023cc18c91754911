use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What admins did to a public vote (its timetable set, opened early, extended, closed), who and
/// when: append-only.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VoteAudit::Table)
                    .if_not_exists()
                    .col(uuid(VoteAudit::Id).primary_key())
                    .col(text(VoteAudit::CampaignId))
                    .col(text(VoteAudit::Actor))
                    .col(text(VoteAudit::Action))
                    .col(text(VoteAudit::Detail))
                    .col(timestamp_with_time_zone(VoteAudit::At))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum VoteAudit {
    Table,
    Id,
    CampaignId,
    Actor,
    Action,
    Detail,
    At,
}
