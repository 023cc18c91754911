use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Consent comes from the person it is about. A nominee's consent links move from the nominee to
/// the addresses they were sent to (`nominee_address`), each verified when its link is answered; a
/// nominee thanked through their manager gets a claim link instead (`nominee.claim_token_hash`);
/// each consent answer records the verified address that gave it.
///
/// Existing links sent to a work address become that address's link (verified if it was answered);
/// links sent through a manager are dropped: they could not show who answered.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NomineeAddress::Table)
                    .if_not_exists()
                    .col(uuid(NomineeAddress::NomineeId))
                    .col(text(NomineeAddress::Email))
                    .col(text(NomineeAddress::TokenHash))
                    .col(timestamp_with_time_zone(NomineeAddress::CreatedAt))
                    .col(timestamp_with_time_zone(NomineeAddress::ExpiresAt))
                    .col(timestamp_with_time_zone_null(NomineeAddress::VerifiedAt))
                    .primary_key(
                        Index::create()
                            .col(NomineeAddress::NomineeId)
                            .col(NomineeAddress::Email),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("nominee_address_token")
                    .table(NomineeAddress::Table)
                    .col(NomineeAddress::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("nominee_address_by_email")
                    .table(NomineeAddress::Table)
                    .col(NomineeAddress::Email)
                    .to_owned(),
            )
            .await?;
        for column in [
            text_null(Nominee::ClaimTokenHash).to_owned(),
            timestamp_with_time_zone_null(Nominee::ClaimExpiresAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Nominee::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("nominee_claim_token")
                    .table(Nominee::Table)
                    .col(Nominee::ClaimTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentRecord::Table)
                    .add_column(text_null(ConsentRecord::Address))
                    .to_owned(),
            )
            .await?;

        // A link that went to a work address stays that address's link, for as long as a new one
        // would last when unanswered.
        let expires_at = chrono::Utc::now() + chrono::Duration::days(30);
        let moved = Query::insert()
            .into_table(NomineeAddress::Table)
            .columns([
                NomineeAddress::NomineeId,
                NomineeAddress::Email,
                NomineeAddress::TokenHash,
                NomineeAddress::CreatedAt,
                NomineeAddress::ExpiresAt,
                NomineeAddress::VerifiedAt,
            ])
            .select_from(
                Query::select()
                    .column(Nominee::Id)
                    .expr(Func::lower(Expr::col(Nominee::Email)))
                    .column(Nominee::ConsentTokenHash)
                    .expr(Func::coalesce([
                        Expr::col(Nominee::ThankedAt),
                        Expr::col(Nominee::CreatedAt),
                    ]))
                    .expr(Expr::val(expires_at))
                    .column(Nominee::ConsentAnsweredAt)
                    .from(Nominee::Table)
                    .and_where(Expr::col(Nominee::ConsentTokenHash).is_not_null())
                    .and_where(Expr::col(Nominee::Email).ne(""))
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(moved).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("nominee_consent_token")
                    .table(Nominee::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Nominee::Table)
                    .drop_column(Nominee::ConsentTokenHash)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NomineeAddress {
    Table,
    NomineeId,
    Email,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    VerifiedAt,
}

#[derive(DeriveIden)]
enum Nominee {
    Table,
    Id,
    Email,
    CreatedAt,
    ThankedAt,
    ConsentTokenHash,
    ConsentAnsweredAt,
    ClaimTokenHash,
    ClaimExpiresAt,
}

#[derive(DeriveIden)]
enum ConsentRecord {
    Table,
    Address,
}
