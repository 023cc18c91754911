use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The From display name, when the email's trust has its own (the address stays ours).
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(text_null(Delivery::SenderName))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    SenderName,
}
