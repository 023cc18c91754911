use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, text, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Voters verify their address before a campaign's public vote takes their votes: a verification
/// (the link's token and the 6-digit code, each only as a hash, single-use and short-lived) gives a
/// voter pass (only its hash kept) for the campaign's ballots. Both name the voter only by their
/// keyed voter key, never the address.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VoterVerification::Table)
                    .if_not_exists()
                    .col(uuid(VoterVerification::Id).primary_key())
                    .col(text(VoterVerification::CampaignId))
                    .col(text(VoterVerification::VoterKey))
                    .col(text(VoterVerification::TokenHash).unique_key())
                    .col(text(VoterVerification::CodeHash))
                    .col(integer(VoterVerification::Attempts))
                    .col(timestamp_with_time_zone(VoterVerification::CreatedAt))
                    .col(timestamp_with_time_zone(VoterVerification::ExpiresAt))
                    .col(timestamp_with_time_zone_null(VoterVerification::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("voter_verification_by_voter")
                    .table(VoterVerification::Table)
                    .col(VoterVerification::CampaignId)
                    .col(VoterVerification::VoterKey)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VoterPass::Table)
                    .if_not_exists()
                    .col(text(VoterPass::PassHash).primary_key())
                    .col(text(VoterPass::CampaignId))
                    .col(text(VoterPass::VoterKey))
                    .col(timestamp_with_time_zone(VoterPass::ExpiresAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum VoterVerification {
    Table,
    Id,
    CampaignId,
    VoterKey,
    TokenHash,
    CodeHash,
    Attempts,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum VoterPass {
    Table,
    PassHash,
    CampaignId,
    VoterKey,
    ExpiresAt,
}
