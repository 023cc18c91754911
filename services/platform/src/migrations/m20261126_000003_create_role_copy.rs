use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A service's copy of who holds which admin role (see `auth::roles`), looked up by account.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoleCopy::Table)
                    .if_not_exists()
                    .col(text(RoleCopy::Email))
                    .col(text(RoleCopy::Role))
                    .col(text(RoleCopy::Scope))
                    .col(text(RoleCopy::Issuer))
                    .col(text(RoleCopy::Subject))
                    .col(boolean(RoleCopy::Revoked))
                    .col(big_integer(RoleCopy::Version))
                    .primary_key(
                        Index::create()
                            .col(RoleCopy::Email)
                            .col(RoleCopy::Role)
                            .col(RoleCopy::Scope),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("role_copy_by_account")
                    .table(RoleCopy::Table)
                    .col(RoleCopy::Issuer)
                    .col(RoleCopy::Subject)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoleCopy::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RoleCopy {
    Table,
    Email,
    Role,
    Scope,
    Issuer,
    Subject,
    Revoked,
    Version,
}
