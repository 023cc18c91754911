use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Where a reply to the email goes, when not to the From address (e.g. the trust's contact).
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(text_null(Delivery::ReplyTo))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    ReplyTo,
}
