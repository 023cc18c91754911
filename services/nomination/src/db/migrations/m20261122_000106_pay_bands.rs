use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Empty: no band given (nominations), every band admitted (categories).
        let band = ColumnDef::new(Nomination::Band)
            .text()
            .not_null()
            .default("")
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Nomination::Table)
                    .add_column(band)
                    .to_owned(),
            )
            .await?;
        let eligible = ColumnDef::new(Category::EligibleBands)
            .text()
            .not_null()
            .default("")
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Category::Table)
                    .add_column(eligible)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Band,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    EligibleBands,
}
