use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The unsolicited cap counts one person's mailbox however its address is typed: each slot records
/// a digest of the mailbox (`policy::unsolicited::key`). Slots taken before this migration carry
/// none, so for the day after an upgrade they no longer count.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(text_null(Delivery::UnsolicitedKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("delivery_unsolicited_by_key")
                    .table(Delivery::Table)
                    .col(Delivery::UnsolicitedKey)
                    .col(Delivery::UnsolicitedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    UnsolicitedKey,
    UnsolicitedAt,
}
