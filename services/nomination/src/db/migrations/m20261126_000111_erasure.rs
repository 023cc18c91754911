use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Erasure requests and each service's answer to them. A request keeps only a hash of the address
/// it was for: the record that someone was erased must not itself say who.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ErasureRequest::Table)
                    .if_not_exists()
                    .col(uuid(ErasureRequest::Id).primary_key())
                    .col(text(ErasureRequest::EmailHash))
                    .col(text(ErasureRequest::RequestedBy))
                    .col(timestamp_with_time_zone(ErasureRequest::RequestedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ErasureAnswer::Table)
                    .if_not_exists()
                    .col(uuid(ErasureAnswer::RequestId))
                    .col(text(ErasureAnswer::Service))
                    .col(big_integer(ErasureAnswer::Records))
                    .col(timestamp_with_time_zone(ErasureAnswer::ErasedAt))
                    .primary_key(
                        Index::create()
                            .col(ErasureAnswer::RequestId)
                            .col(ErasureAnswer::Service),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ErasureRequest {
    Table,
    Id,
    EmailHash,
    RequestedBy,
    RequestedAt,
}

#[derive(DeriveIden)]
enum ErasureAnswer {
    Table,
    RequestId,
    Service,
    Records,
    ErasedAt,
}
