use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per column: SQLite takes one change per statement.
        let campaign_columns = [
            ColumnDef::new(Campaign::Scope)
                .text()
                .not_null()
                .default("national")
                .to_owned(),
            ColumnDef::new(Campaign::ScopeCode)
                .string_len(5)
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::NominationsOpenAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::NominationsCloseAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::JudgingCloseAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::VoteOpenAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::VoteCloseAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Campaign::ResultsAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for column in campaign_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Campaign::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Comma-separated staff-group slugs; empty means every support staff group.
        let eligible = ColumnDef::new(Category::EligibleStaffGroups)
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
enum Campaign {
    Table,
    Scope,
    ScopeCode,
    NominationsOpenAt,
    NominationsCloseAt,
    JudgingCloseAt,
    VoteOpenAt,
    VoteCloseAt,
    ResultsAt,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    EligibleStaffGroups,
}
