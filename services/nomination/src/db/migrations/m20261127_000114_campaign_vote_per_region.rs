use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Whether a campaign's public vote has a ballot per region and category (each region's finalists
/// voted on apart) instead of one per category. Campaigns made before say no.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Campaign::Table)
                    .add_column(boolean(Campaign::VotePerRegion).default(false))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    VotePerRegion,
}
