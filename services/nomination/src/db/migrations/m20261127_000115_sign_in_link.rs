use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Emailed sign-in links waiting to be used: the SHA-256 of each link's token (never the token),
/// the address it was sent to, and when it stops working. A link is deleted when it is used, and
/// expired ones by the upkeep round.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInLink::Table)
                    .if_not_exists()
                    .col(text(SignInLink::TokenHash).primary_key())
                    .col(text(SignInLink::Email))
                    .col(timestamp_with_time_zone(SignInLink::ExpiresAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SignInLink {
    Table,
    TokenHash,
    Email,
    ExpiresAt,
}
