use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Addresses nothing is sent to again, from any trust: hard bounces and complaints.
        manager
            .create_table(
                Table::create()
                    .table(Suppression::Table)
                    .if_not_exists()
                    .col(text(Suppression::Email).primary_key())
                    .col(text(Suppression::Reason))
                    .col(text(Suppression::Detail))
                    .col(timestamp_with_time_zone(Suppression::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One row per address that was ever sent a non-transactional email: its unsubscribe token
        // and, once used, when it was.
        manager
            .create_table(
                Table::create()
                    .table(EmailPreference::Table)
                    .if_not_exists()
                    .col(text(EmailPreference::Email).primary_key())
                    .col(text(EmailPreference::Token))
                    .col(timestamp_with_time_zone_null(
                        EmailPreference::UnsubscribedAt,
                    ))
                    .col(text_null(EmailPreference::UnsubscribedVia))
                    .col(timestamp_with_time_zone(EmailPreference::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_preference_token")
                    .table(EmailPreference::Table)
                    .col(EmailPreference::Token)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // When a non-transactional email took one of its recipient's daily slots (the throttle).
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(timestamp_with_time_zone_null(Delivery::CountedAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Suppression {
    Table,
    Email,
    Reason,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailPreference {
    Table,
    Email,
    Token,
    UnsubscribedAt,
    UnsubscribedVia,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    CountedAt,
}
