//! MP alerts: the House of Commons directory, postcode → constituency (known sites and a cache of
//! the lookup API's answers), the finalists and winners waiting for their MP's digest, and every
//! digest made.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The demo trusts' sites, checked against the 2024 constituencies in `mp_lookup.csv`. Postcodes
/// whose constituency was not certain are left to the lookup API.
const KNOWN_POSTCODES: &[(&str, &str, &str)] = &[
    // St Thomas' Hospital
    ("SE1 7EH", "E14001559", "Vauxhall and Camberwell Green"),
    // Guy's Hospital
    ("SE1 9RT", "E14001085", "Bermondsey and Old Southwark"),
    // Queen Elizabeth Hospital Birmingham
    ("B15 2GW", "E14001092", "Birmingham Edgbaston"),
    // Queen's Medical Centre, Nottingham
    ("NG7 2UH", "E14001412", "Nottingham South"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mp::Table)
                    .if_not_exists()
                    .col(integer(Mp::MemberId).primary_key())
                    .col(text(Mp::ConstituencyCode).unique_key())
                    .col(text(Mp::ConstituencyName))
                    .col(text(Mp::DisplayAs))
                    .col(text(Mp::FullTitle))
                    .col(text(Mp::Party))
                    .col(text(Mp::Email))
                    .col(boolean(Mp::NeedsCheck))
                    .col(text_null(Mp::CheckReason))
                    .col(timestamp_with_time_zone(Mp::ImportedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KnownPostcode::Table)
                    .if_not_exists()
                    .col(text(KnownPostcode::Postcode).primary_key())
                    .col(text(KnownPostcode::ConstituencyCode))
                    .col(text(KnownPostcode::Note))
                    .to_owned(),
            )
            .await?;
        let mut seed = Query::insert()
            .into_table(KnownPostcode::Table)
            .columns([
                KnownPostcode::Postcode,
                KnownPostcode::ConstituencyCode,
                KnownPostcode::Note,
            ])
            .on_conflict(
                OnConflict::column(KnownPostcode::Postcode)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        for (postcode, code, name) in KNOWN_POSTCODES {
            seed.values([(*postcode).into(), (*code).into(), (*name).into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        manager.exec_stmt(seed).await?;
        manager
            .create_table(
                Table::create()
                    .table(PostcodeCache::Table)
                    .if_not_exists()
                    .col(text(PostcodeCache::Postcode).primary_key())
                    .col(text(PostcodeCache::ConstituencyCode))
                    .col(timestamp_with_time_zone(PostcodeCache::FetchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MpDigestItem::Table)
                    .if_not_exists()
                    .col(uuid(MpDigestItem::Id).primary_key())
                    // One item per event: a redelivered event adds nothing.
                    .col(uuid(MpDigestItem::EventId).unique_key())
                    .col(text(MpDigestItem::Kind))
                    .col(text(MpDigestItem::NomineeName))
                    .col(text(MpDigestItem::NomineeJobTitle))
                    .col(text(MpDigestItem::TrustName))
                    .col(text(MpDigestItem::CategoryName))
                    .col(text(MpDigestItem::CampaignName))
                    .col(text(MpDigestItem::StoryExcerpt))
                    .col(text(MpDigestItem::WorkplacePostcode))
                    .col(text_null(MpDigestItem::ConstituencyCode))
                    .col(text(MpDigestItem::Status))
                    .col(text_null(MpDigestItem::Problem))
                    .col(uuid_null(MpDigestItem::DigestId))
                    .col(timestamp_with_time_zone(MpDigestItem::CreatedAt))
                    .col(timestamp_with_time_zone_null(MpDigestItem::IncludedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mp_digest_item_waiting")
                    .table(MpDigestItem::Table)
                    .col(MpDigestItem::Status)
                    .col(MpDigestItem::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MpDigest::Table)
                    .if_not_exists()
                    // The delivery's cause_event_id: one per MP and period.
                    .col(uuid(MpDigest::Id).primary_key())
                    .col(integer(MpDigest::MemberId))
                    .col(text(MpDigest::MpName))
                    .col(text(MpDigest::ConstituencyCode))
                    .col(text(MpDigest::ConstituencyName))
                    .col(text(MpDigest::Recipient))
                    .col(timestamp_with_time_zone(MpDigest::PeriodStart))
                    .col(integer(MpDigest::ItemCount))
                    .col(timestamp_with_time_zone(MpDigest::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mp_digest_by_created")
                    .table(MpDigest::Table)
                    .col(MpDigest::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Mp {
    Table,
    MemberId,
    ConstituencyCode,
    ConstituencyName,
    DisplayAs,
    FullTitle,
    Party,
    Email,
    NeedsCheck,
    CheckReason,
    ImportedAt,
}

#[derive(DeriveIden)]
enum KnownPostcode {
    Table,
    Postcode,
    ConstituencyCode,
    Note,
}

#[derive(DeriveIden)]
enum PostcodeCache {
    Table,
    Postcode,
    ConstituencyCode,
    FetchedAt,
}

#[derive(DeriveIden)]
enum MpDigestItem {
    Table,
    Id,
    EventId,
    Kind,
    NomineeName,
    NomineeJobTitle,
    TrustName,
    CategoryName,
    CampaignName,
    StoryExcerpt,
    WorkplacePostcode,
    ConstituencyCode,
    Status,
    Problem,
    DigestId,
    CreatedAt,
    IncludedAt,
}

#[derive(DeriveIden)]
enum MpDigest {
    Table,
    Id,
    MemberId,
    MpName,
    ConstituencyCode,
    ConstituencyName,
    Recipient,
    PeriodStart,
    ItemCount,
    CreatedAt,
}
