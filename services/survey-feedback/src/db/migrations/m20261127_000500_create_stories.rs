use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

/// Stories told for a campaign, from draft to moderation, and their audit trail. The phone number
/// is only ever stored sealed (`phone_sealed`, see `valued_platform::sealed`).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Story::Table)
                    .if_not_exists()
                    .col(uuid(Story::Id).primary_key())
                    .col(uuid(Story::CampaignId))
                    .col(text(Story::CampaignSlug))
                    .col(text(Story::CampaignName))
                    .col(text(Story::CampaignScope))
                    .col(text(Story::CampaignScopeCode))
                    .col(text(Story::Status))
                    .col(text(Story::WorksInNhs))
                    .col(text(Story::NhsRole))
                    .col(text(Story::Text))
                    .col(boolean(Story::ConsentPublish))
                    .col(boolean(Story::ConsentPress))
                    .col(boolean(Story::ConsentMp))
                    .col(boolean(Story::ConsentContact))
                    .col(text_null(Story::PhoneSealed))
                    .col(text(Story::Email))
                    .col(text_null(Story::DraftTokenHash).unique_key())
                    .col(text_null(Story::WithdrawTokenHash).unique_key())
                    .col(timestamp_with_time_zone(Story::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Story::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Story::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Story::ModeratedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("story_by_campaign_status")
                    .table(Story::Table)
                    .col(Story::CampaignId)
                    .col(Story::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StoryAudit::Table)
                    .if_not_exists()
                    .col(uuid(StoryAudit::Id).primary_key())
                    .col(uuid(StoryAudit::StoryId))
                    .col(text(StoryAudit::Action))
                    .col(text(StoryAudit::Actor))
                    .col(text(StoryAudit::Reason))
                    .col(timestamp_with_time_zone(StoryAudit::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("story_audit_by_story")
                    .table(StoryAudit::Table)
                    .col(StoryAudit::StoryId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Story {
    Table,
    Id,
    CampaignId,
    CampaignSlug,
    CampaignName,
    CampaignScope,
    CampaignScopeCode,
    Status,
    WorksInNhs,
    NhsRole,
    #[sea_orm(iden = "story")]
    Text,
    ConsentPublish,
    ConsentPress,
    ConsentMp,
    ConsentContact,
    PhoneSealed,
    Email,
    DraftTokenHash,
    WithdrawTokenHash,
    UpdatedAt,
    ExpiresAt,
    SubmittedAt,
    ModeratedAt,
}

#[derive(DeriveIden)]
enum StoryAudit {
    Table,
    Id,
    StoryId,
    Action,
    Actor,
    Reason,
    At,
}
