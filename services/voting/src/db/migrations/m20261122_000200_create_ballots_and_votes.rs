use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Ballot::Table)
                    .if_not_exists()
                    .col(uuid(Ballot::Id).primary_key())
                    .col(text(Ballot::Title))
                    .col(timestamp_with_time_zone(Ballot::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BallotChoice::Table)
                    .if_not_exists()
                    .col(uuid(BallotChoice::BallotId))
                    .col(text(BallotChoice::ChoiceId))
                    .col(text(BallotChoice::Label))
                    .col(integer(BallotChoice::Position))
                    .primary_key(
                        Index::create()
                            .col(BallotChoice::BallotId)
                            .col(BallotChoice::ChoiceId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BallotChoice::Table, BallotChoice::BallotId)
                            .to(Ballot::Table, Ballot::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Vote::Table)
                    .if_not_exists()
                    .col(uuid(Vote::Id).primary_key())
                    .col(uuid(Vote::BallotId))
                    .col(text(Vote::ChoiceId))
                    .col(text(Vote::VoterKey))
                    .col(timestamp_with_time_zone(Vote::CastAt))
                    // One counted vote per voter per ballot: the database decides, so that two
                    // concurrent requests cannot both pass a check made beforehand.
                    .index(
                        Index::create()
                            .name("vote_one_per_voter_per_ballot")
                            .unique()
                            .col(Vote::BallotId)
                            .col(Vote::VoterKey),
                    )
                    // A vote is for a choice on its own ballot.
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Vote::Table)
                            .from_col(Vote::BallotId)
                            .from_col(Vote::ChoiceId)
                            .to_tbl(BallotChoice::Table)
                            .to_col(BallotChoice::BallotId)
                            .to_col(BallotChoice::ChoiceId),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Ballot {
    Table,
    Id,
    Title,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BallotChoice {
    Table,
    BallotId,
    ChoiceId,
    Label,
    Position,
}

#[derive(DeriveIden)]
enum Vote {
    Table,
    Id,
    BallotId,
    ChoiceId,
    VoterKey,
    CastAt,
}
