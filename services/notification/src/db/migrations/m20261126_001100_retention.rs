use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When retention (`crate::retention`) removed a row's personal details, keeping the row.
        for table in [
            Delivery::Table.into_iden(),
            MpLetter::Table.into_iden(),
            MpDigestItem::Table.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(timestamp_with_time_zone_null(Retained::PseudonymisedAt))
                        .to_owned(),
                )
                .await?;
        }
        // Finished deliveries still holding their details, oldest first: a batch stops after its
        // rows instead of reading every delivery.
        manager
            .create_index(
                Index::create()
                    .name("delivery_retention")
                    .table(Delivery::Table)
                    .col(Retained::PseudonymisedAt)
                    .col(Delivery::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // Letters by status and age (unconfirmed, discarded, and sent ones not yet pseudonymised).
        manager
            .create_index(
                Index::create()
                    .name("mp_letter_retention")
                    .table(MpLetter::Table)
                    .col(MpLetter::Status)
                    .col(Retained::PseudonymisedAt)
                    .col(MpLetter::ConfirmedAt)
                    .to_owned(),
            )
            .await?;
        // The inbox (the platform's table, in this service's database) read by age. Its key leads
        // with the consumer, so without this every purge batch would read the whole table.
        manager
            .create_index(
                Index::create()
                    .name("inbox_processed_at")
                    .table(Inbox::Table)
                    .col(Inbox::ProcessedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Retained {
    PseudonymisedAt,
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MpLetter {
    Table,
    Status,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum MpDigestItem {
    Table,
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    ProcessedAt,
}
