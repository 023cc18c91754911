use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The rate-limit counters of public actions (see `limits`): one row per hashed key and window.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimit::Table)
                    .if_not_exists()
                    .col(text(RateLimit::Key))
                    .col(big_integer(RateLimit::WindowStart))
                    .col(big_integer(RateLimit::Hits))
                    .primary_key(
                        Index::create()
                            .col(RateLimit::Key)
                            .col(RateLimit::WindowStart),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimit::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateLimit {
    Table,
    Key,
    WindowStart,
    Hits,
}
