use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who may vote in a campaign's public vote: anyone verified (no row, or `staff` false), or staff
/// only, by work-email domain and/or an uploaded list kept only as voter keys (never addresses).
/// Verifications and passes carry keyed digests of the voter's email domain and its parent
/// domains, so that a vote can be checked against the setting as it is when cast.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VoteEligibility::Table)
                    .if_not_exists()
                    .col(text(VoteEligibility::CampaignId).primary_key())
                    .col(boolean(VoteEligibility::Staff))
                    .col(text(VoteEligibility::Domains))
                    .col(big_integer(VoteEligibility::Listed))
                    .col(timestamp_with_time_zone(VoteEligibility::UpdatedAt))
                    .col(text(VoteEligibility::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EligibleVoter::Table)
                    .if_not_exists()
                    .col(text(EligibleVoter::CampaignId))
                    .col(text(EligibleVoter::VoterKey))
                    .primary_key(
                        Index::create()
                            .col(EligibleVoter::CampaignId)
                            .col(EligibleVoter::VoterKey),
                    )
                    .to_owned(),
            )
            .await?;
        for table in [
            VoterVerification::Table.into_iden(),
            VoterPass::Table.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(text(VoterPass::Domains).default(""))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum VoteEligibility {
    Table,
    CampaignId,
    Staff,
    Domains,
    Listed,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum EligibleVoter {
    Table,
    CampaignId,
    VoterKey,
}

#[derive(DeriveIden)]
enum VoterVerification {
    Table,
}

#[derive(DeriveIden)]
enum VoterPass {
    Table,
    Domains,
}
