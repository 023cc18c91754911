use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, text_null, timestamp_with_time_zone, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The moments of a public vote's timetable that were announced: a campaign's vote opening
/// (`opened:<campaign id>`) and each ballot's results release (`released:<ballot id>`). The key is
/// claimed in the transaction that enqueues the moment's event, so that however many replicas
/// watch the timetable, each moment is announced once.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VoteMoment::Table)
                    .if_not_exists()
                    .col(text(VoteMoment::Key).primary_key())
                    .col(text(VoteMoment::CampaignId))
                    .col(uuid_null(VoteMoment::BallotId))
                    .col(text_null(VoteMoment::Detail))
                    .col(timestamp_with_time_zone(VoteMoment::At))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum VoteMoment {
    Table,
    Key,
    CampaignId,
    BallotId,
    Detail,
    At,
}
