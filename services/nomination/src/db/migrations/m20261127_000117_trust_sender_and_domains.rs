use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How a trust's emails present themselves (the From name and where replies go), kept with the
/// trust and changed by its admins instead of in the notification service's settings; and the
/// trust's staff's work-email domains, for staff-only votes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table a column at a time.
        for column in [Trust::SenderName, Trust::ReplyTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Trust::Table)
                        .add_column(text(column).default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TrustEmailDomain::Table)
                    .if_not_exists()
                    .col(text(TrustEmailDomain::TrustCode))
                    .col(text(TrustEmailDomain::Domain))
                    .primary_key(
                        Index::create()
                            .col(TrustEmailDomain::TrustCode)
                            .col(TrustEmailDomain::Domain),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Trust {
    Table,
    SenderName,
    ReplyTo,
}

#[derive(DeriveIden)]
enum TrustEmailDomain {
    Table,
    TrustCode,
    Domain,
}
