use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When an email caused by what someone typed into a public form took one of its
        // recipient's daily slots (the unsolicited cap).
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(timestamp_with_time_zone_null(Delivery::UnsolicitedAt))
                    .to_owned(),
            )
            .await?;
        // The cap's count: one address's slots in the last 24 hours.
        manager
            .create_index(
                Index::create()
                    .name("delivery_unsolicited")
                    .table(Delivery::Table)
                    .col(Delivery::Recipient)
                    .col(Delivery::UnsolicitedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Recipient,
    UnsolicitedAt,
}
