use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// This service's copy of each trust's sender name and reply-to, as the trust's admins set them in
/// the nomination service (`trust.settings_changed.v1`), with when they changed so that an older
/// copy arriving late changes nothing.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrustSender::Table)
                    .if_not_exists()
                    .col(text(TrustSender::TrustCode).primary_key())
                    .col(text(TrustSender::SenderName))
                    .col(text(TrustSender::ReplyTo))
                    .col(timestamp_with_time_zone(TrustSender::ChangedAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TrustSender {
    Table,
    TrustCode,
    SenderName,
    ReplyTo,
    ChangedAt,
}
