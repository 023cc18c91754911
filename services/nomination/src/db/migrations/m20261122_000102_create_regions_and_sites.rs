use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, string_len_null, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Region::Table)
                    .if_not_exists()
                    .col(string_len(Region::Code, 5).primary_key())
                    .col(text(Region::Name))
                    .to_owned(),
            )
            .await?;
        // One ALTER per column: SQLite takes one change per statement.
        for column in [
            ColumnDef::new(Trust::RegionCode)
                .string_len(5)
                .null()
                .to_owned(),
            ColumnDef::new(Trust::Address).text().null().to_owned(),
            ColumnDef::new(Trust::Postcode)
                .string_len(8)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Trust::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Site::Table)
                    .if_not_exists()
                    .col(string_len(Site::Code, 5).primary_key())
                    .col(string_len(Site::TrustCode, 5))
                    .col(text(Site::Name))
                    .col(text_null(Site::Address))
                    .col(string_len_null(Site::Postcode, 8))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Site::Table, Site::TrustCode)
                            .to(Trust::Table, Trust::Code),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Region {
    Table,
    Code,
    Name,
}

#[derive(DeriveIden)]
enum Trust {
    Table,
    Code,
    RegionCode,
    Address,
    Postcode,
}

#[derive(DeriveIden)]
enum Site {
    Table,
    Code,
    TrustCode,
    Name,
    Address,
    Postcode,
}
