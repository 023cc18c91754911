use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, small_integer, timestamp_with_time_zone, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A confirmed letter's MinHash band hashes (`write_to_mp::fingerprint`): the copy check
        // finds candidate letters through these, never by reading the letters themselves.
        manager
            .create_table(
                Table::create()
                    .table(MpLetterFingerprint::Table)
                    .if_not_exists()
                    .col(uuid(MpLetterFingerprint::LetterId))
                    .col(small_integer(MpLetterFingerprint::Band))
                    .col(big_integer(MpLetterFingerprint::BandHash))
                    .col(integer(MpLetterFingerprint::MemberId))
                    .col(timestamp_with_time_zone(MpLetterFingerprint::ConfirmedAt))
                    .primary_key(
                        Index::create()
                            .col(MpLetterFingerprint::LetterId)
                            .col(MpLetterFingerprint::Band),
                    )
                    .to_owned(),
            )
            .await?;
        // The copy check's lookup: one MP's band hashes within the window.
        manager
            .create_index(
                Index::create()
                    .name("mp_letter_fingerprint_lookup")
                    .table(MpLetterFingerprint::Table)
                    .col(MpLetterFingerprint::MemberId)
                    .col(MpLetterFingerprint::BandHash)
                    .col(MpLetterFingerprint::ConfirmedAt)
                    .to_owned(),
            )
            .await?;
        // The daily limit per person per MP counts one supporter's letters to one MP, whatever
        // volume the MP gets from everyone else.
        manager
            .create_index(
                Index::create()
                    .name("mp_letter_by_supporter")
                    .table(MpLetter::Table)
                    .col(MpLetter::SupporterEmail)
                    .col(MpLetter::MemberId)
                    .col(MpLetter::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MpLetterFingerprint {
    Table,
    LetterId,
    Band,
    BandHash,
    MemberId,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum MpLetter {
    Table,
    SupporterEmail,
    MemberId,
    CreatedAt,
}
