use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text_null, timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Binds each role grant to the signed-in account it was first claimed by (the ID token's `iss` and
/// `sub`), and lets a grant be revoked: who revoked it and when.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite accepts one `ADD COLUMN` per `ALTER TABLE`.
        for mut column in [
            text_null(RoleGrant::Issuer),
            text_null(RoleGrant::Subject),
            timestamp_with_time_zone_null(RoleGrant::RevokedAt),
            text_null(RoleGrant::RevokedBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RoleGrant::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("role_grant_by_subject")
                    .table(RoleGrant::Table)
                    .col(RoleGrant::Issuer)
                    .col(RoleGrant::Subject)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RoleGrant {
    Table,
    Issuer,
    Subject,
    RevokedAt,
    RevokedBy,
}
