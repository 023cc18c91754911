use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The W3C trace context of the event handling that recorded the delivery, so that its send
        // joins the trace of what caused it.
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(text_null(Delivery::Traceparent))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Traceparent,
}
