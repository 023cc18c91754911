use sea_orm_migration::prelude::*;

/// Finds a ledger entry from a voter's receipt: the receipt is the start of the entry's hash, so a
/// range read on (ballot, hash) finds it among millions.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ledger_entry_by_hash")
                    .table(LedgerEntry::Table)
                    .col(LedgerEntry::BallotId)
                    .col(LedgerEntry::Hash)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LedgerEntry {
    Table,
    BallotId,
    Hash,
}
