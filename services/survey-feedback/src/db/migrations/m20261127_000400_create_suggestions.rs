use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, date, string_len, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid,
};

/// The suggestion box: suggestions, their supporters (one row per keyed address, so the database
/// allows one support per person) and the audit of what admins did to them.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Suggestion::Table)
                    .if_not_exists()
                    .col(uuid(Suggestion::Id).primary_key())
                    .col(string_len(Suggestion::TrustCode, 3))
                    .col(text(Suggestion::Text))
                    // Both null for an anonymous suggestion, and once a named one's are forgotten.
                    .col(text_null(Suggestion::SuggesterName))
                    .col(text_null(Suggestion::SuggesterEmail))
                    .col(text(Suggestion::Moderation))
                    .col(text(Suggestion::Status))
                    .col(text_null(Suggestion::PublicReason))
                    .col(big_integer(Suggestion::Supporters).default(0))
                    // The day only: an anonymous suggestion's exact time could be matched to a log.
                    .col(date(Suggestion::PostedOn))
                    .col(timestamp_with_time_zone_null(Suggestion::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("suggestion_by_trust")
                    .table(Suggestion::Table)
                    .col(Suggestion::TrustCode)
                    .col(Suggestion::Moderation)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SuggestionSupport::Table)
                    .if_not_exists()
                    .col(uuid(SuggestionSupport::SuggestionId))
                    .col(text(SuggestionSupport::SupporterKey))
                    .primary_key(
                        Index::create()
                            .col(SuggestionSupport::SuggestionId)
                            .col(SuggestionSupport::SupporterKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SuggestionSupport::Table, SuggestionSupport::SuggestionId)
                            .to(Suggestion::Table, Suggestion::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SuggestionAudit::Table)
                    .if_not_exists()
                    .col(uuid(SuggestionAudit::Id).primary_key())
                    .col(timestamp_with_time_zone(SuggestionAudit::At))
                    .col(text(SuggestionAudit::Actor))
                    .col(text(SuggestionAudit::Action))
                    .col(uuid(SuggestionAudit::SuggestionId))
                    .col(string_len(SuggestionAudit::TrustCode, 3))
                    .col(text(SuggestionAudit::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("suggestion_audit_by_trust")
                    .table(SuggestionAudit::Table)
                    .col(SuggestionAudit::TrustCode)
                    .col(SuggestionAudit::At)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Suggestion {
    Table,
    Id,
    TrustCode,
    Text,
    SuggesterName,
    SuggesterEmail,
    Moderation,
    Status,
    PublicReason,
    Supporters,
    PostedOn,
    DecidedAt,
}

#[derive(DeriveIden)]
enum SuggestionSupport {
    Table,
    SuggestionId,
    SupporterKey,
}

#[derive(DeriveIden)]
enum SuggestionAudit {
    Table,
    Id,
    At,
    Actor,
    Action,
    SuggestionId,
    TrustCode,
    Detail,
}
