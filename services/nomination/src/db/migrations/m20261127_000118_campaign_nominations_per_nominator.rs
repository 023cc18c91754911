use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How many nominations one person may make to a campaign, when its organisers set it; empty keeps
/// the service-wide `nominations_per_nominator`. Campaigns made before keep the default.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Campaign::Table)
                    .add_column(integer_null(Campaign::NominationsPerNominator))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    NominationsPerNominator,
}
