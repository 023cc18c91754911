use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, timestamp_with_time_zone, uuid};

/// The vote ledger (a hash chain per ballot, see `crate::ledger`) and the tally kept with it; votes
/// counted before there was a ledger are written into it in the order they were cast.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntry::Table)
                    .if_not_exists()
                    .col(uuid(LedgerEntry::BallotId))
                    .col(big_integer(LedgerEntry::Seq))
                    .col(text(LedgerEntry::ChoiceId))
                    .col(text(LedgerEntry::VoterHash))
                    .col(timestamp_with_time_zone(LedgerEntry::CastHour))
                    .col(text(LedgerEntry::PrevHash))
                    .col(text(LedgerEntry::Hash))
                    .primary_key(
                        Index::create()
                            .col(LedgerEntry::BallotId)
                            .col(LedgerEntry::Seq),
                    )
                    // One entry per voter per ballot, as one vote; also finds a voter's receipt.
                    .index(
                        Index::create()
                            .name("ledger_one_entry_per_voter")
                            .unique()
                            .col(LedgerEntry::BallotId)
                            .col(LedgerEntry::VoterHash),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LedgerEntry::Table, LedgerEntry::BallotId)
                            .to(Ballot::Table, Ballot::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tally::Table)
                    .if_not_exists()
                    .col(uuid(Tally::BallotId))
                    .col(text(Tally::ChoiceId))
                    .col(big_integer(Tally::Votes))
                    .primary_key(Index::create().col(Tally::BallotId).col(Tally::ChoiceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tally::Table, Tally::BallotId)
                            .to(Ballot::Table, Ballot::Id),
                    )
                    .to_owned(),
            )
            .await?;
        crate::ledger::store::backfill(manager.get_connection()).await
    }
}

#[derive(DeriveIden)]
enum Ballot {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LedgerEntry {
    Table,
    BallotId,
    Seq,
    ChoiceId,
    VoterHash,
    CastHour,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum Tally {
    Table,
    BallotId,
    ChoiceId,
    Votes,
}
