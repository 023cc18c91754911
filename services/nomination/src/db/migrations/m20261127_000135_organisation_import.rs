use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, blob, integer, text, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An organisations file imported from the browser: checked whole when it is sent, then written in
/// batches by whichever replica holds the lease, each batch in one transaction with the count of
/// rows written, so the progress page is exact and a replica that dies mid-import is taken over
/// where it stopped. The file is kept only until the import ends.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrganisationImport::Table)
                    .if_not_exists()
                    .col(uuid(OrganisationImport::Id).primary_key())
                    .col(text(OrganisationImport::StartedBy))
                    .col(blob(OrganisationImport::Csv))
                    .col(integer(OrganisationImport::Regions))
                    .col(integer(OrganisationImport::Trusts))
                    .col(integer(OrganisationImport::Sites))
                    .col(big_integer(OrganisationImport::Written).default(0))
                    // importing, imported or failed
                    .col(text(OrganisationImport::State))
                    .col(text(OrganisationImport::Failure).default(""))
                    .col(integer(OrganisationImport::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(
                        OrganisationImport::LeaseUntil,
                    ))
                    .col(timestamp_with_time_zone(OrganisationImport::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        OrganisationImport::FinishedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("organisation_import_state")
                    .table(OrganisationImport::Table)
                    .col(OrganisationImport::State)
                    .col(OrganisationImport::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OrganisationImport {
    Table,
    Id,
    StartedBy,
    Csv,
    Regions,
    Trusts,
    Sites,
    Written,
    State,
    Failure,
    Attempts,
    LeaseUntil,
    CreatedAt,
    FinishedAt,
}
