use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Delivery::Table)
                    .if_not_exists()
                    .col(uuid(Delivery::Id).primary_key())
                    .col(uuid(Delivery::CauseEventId))
                    .col(text(Delivery::Recipient))
                    .col(text(Delivery::Template))
                    .col(text(Delivery::Subject))
                    .col(text(Delivery::TextBody))
                    .col(text(Delivery::HtmlBody))
                    .col(text(Delivery::MessageId))
                    .col(text(Delivery::Status))
                    .col(integer(Delivery::Attempts).default(0))
                    .col(timestamp_with_time_zone(Delivery::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Delivery::ClaimedUntil))
                    .col(text_null(Delivery::LastError))
                    .col(text_null(Delivery::SmtpResponse))
                    .col(timestamp_with_time_zone(Delivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(Delivery::SentAt))
                    .to_owned(),
            )
            .await?;
        // The promise that exactly one email goes per event, recipient and template.
        manager
            .create_index(
                Index::create()
                    .name("delivery_once")
                    .table(Delivery::Table)
                    .col(Delivery::CauseEventId)
                    .col(Delivery::Recipient)
                    .col(Delivery::Template)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("delivery_due")
                    .table(Delivery::Table)
                    .col(Delivery::Status)
                    .col(Delivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("delivery_by_recipient")
                    .table(Delivery::Table)
                    .col(Delivery::Recipient)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Id,
    CauseEventId,
    Recipient,
    Template,
    Subject,
    TextBody,
    HtmlBody,
    MessageId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    SmtpResponse,
    CreatedAt,
    SentAt,
}
