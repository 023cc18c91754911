use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Votes on hold: each vote's status (`counted`, `held` for a check, or `discarded`), the flag that
/// held it, and keyed digests of the network and the email domain it came from (never the address),
/// indexed so that a vote's burst check is one range of one index.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text(Vote::Status).default("counted").to_owned(),
            text_null(Vote::Network),
            text_null(Vote::Domain),
            text_null(Vote::HeldBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vote::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, signal) in [
            ("vote_burst_by_network", Vote::Network),
            ("vote_burst_by_domain", Vote::Domain),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Vote::Table)
                        .col(Vote::BallotId)
                        .col(Vote::ChoiceId)
                        .col(signal)
                        .col(Vote::CastAt)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("vote_by_status")
                    .table(Vote::Table)
                    .col(Vote::BallotId)
                    .col(Vote::Status)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Vote {
    Table,
    BallotId,
    ChoiceId,
    CastAt,
    Status,
    Network,
    Domain,
    HeldBy,
}
