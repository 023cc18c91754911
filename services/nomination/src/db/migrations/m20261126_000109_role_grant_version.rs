use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Counts the changes to each role grant, so that the services keeping a copy of it (from
/// `role.changed.v1`) can tell a newer state from an older one delivered late.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RoleGrant::Table)
                    .add_column(big_integer(RoleGrant::Version).default(1))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RoleGrant {
    Table,
    Version,
}
