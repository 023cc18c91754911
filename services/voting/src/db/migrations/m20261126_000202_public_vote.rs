use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, text, text_null, timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A campaign's public vote: a ballot per category of the campaign, built from the finalists
/// announced (`finalist.announced.v1`), with the vote's timetable; and on each choice the copy of
/// what the ballot shows of the finalist (their consent decided it), withdrawn when they withdraw
/// it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(Ballot::CampaignId),
            text_null(Ballot::CategoryId),
            text(Ballot::CampaignName).default("").to_owned(),
            timestamp_with_time_zone_null(Ballot::OpensAt),
            timestamp_with_time_zone_null(Ballot::ClosesAt),
            timestamp_with_time_zone_null(Ballot::ResultsAt),
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
                    .name("ballot_one_per_campaign_category")
                    .table(Ballot::Table)
                    .col(Ballot::CampaignId)
                    .col(Ballot::CategoryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for column in [
            text(BallotChoice::JobTitle).default("").to_owned(),
            text(BallotChoice::TrustName).default("").to_owned(),
            text(BallotChoice::RegionName).default("").to_owned(),
            text(BallotChoice::StoryExcerpt).default("").to_owned(),
            boolean(BallotChoice::Withdrawn).default(false).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BallotChoice::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Ballot {
    Table,
    CampaignId,
    CategoryId,
    CampaignName,
    OpensAt,
    ClosesAt,
    ResultsAt,
}

#[derive(DeriveIden)]
enum BallotChoice {
    Table,
    JobTitle,
    TrustName,
    RegionName,
    StoryExcerpt,
    Withdrawn,
}
