use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Where the receipt of a held vote goes once an admin counts it: the voter's address, kept with
/// the vote's id only while the vote is on hold (see `crate::held`), and found by voter key for
/// subject access and erasure.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HeldReceipt::Table)
                    .if_not_exists()
                    .col(uuid(HeldReceipt::VoteId).primary_key())
                    .col(text(HeldReceipt::VoterKey))
                    .col(text(HeldReceipt::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("held_receipt_by_voter")
                    .table(HeldReceipt::Table)
                    .col(HeldReceipt::VoterKey)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum HeldReceipt {
    Table,
    VoteId,
    VoterKey,
    Email,
}
