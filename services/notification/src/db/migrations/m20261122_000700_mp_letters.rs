use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, string_len, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MpLetter::Table)
                    .if_not_exists()
                    .col(uuid(MpLetter::Id).primary_key())
                    .col(integer(MpLetter::MemberId))
                    .col(string_len(MpLetter::ConstituencyCode, 9))
                    .col(text(MpLetter::SupporterName))
                    .col(text(MpLetter::SupporterEmail))
                    .col(text(MpLetter::SupporterPostcode))
                    .col(text(MpLetter::Body))
                    .col(text(MpLetter::Status))
                    .col(text_null(MpLetter::ConfirmTokenHash).unique_key())
                    .col(timestamp_with_time_zone(MpLetter::CreatedAt))
                    .col(timestamp_with_time_zone_null(MpLetter::ConfirmedAt))
                    .to_owned(),
            )
            .await?;
        // Limits and copy checks look at one MP's recent letters.
        manager
            .create_index(
                Index::create()
                    .name("mp_letter_by_member")
                    .table(MpLetter::Table)
                    .col(MpLetter::MemberId)
                    .col(MpLetter::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MpLetter {
    Table,
    Id,
    MemberId,
    ConstituencyCode,
    SupporterName,
    SupporterEmail,
    SupporterPostcode,
    Body,
    Status,
    ConfirmTokenHash,
    CreatedAt,
    ConfirmedAt,
}
