use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    text, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a campaign's page shows besides its categories, written by its admins: key dates (the
/// campaign's own events, like One Team week or the ceremony), resources (posters, toolkits,
/// links) and news items.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CampaignItem::Table)
                    .if_not_exists()
                    .col(uuid(CampaignItem::Id).primary_key())
                    .col(uuid(CampaignItem::CampaignId))
                    // "date", "resource" or "news".
                    .col(text(CampaignItem::Kind))
                    .col(text(CampaignItem::Title))
                    .col(timestamp_with_time_zone_null(CampaignItem::At))
                    .col(text(CampaignItem::Url))
                    .col(text(CampaignItem::Body))
                    .col(timestamp_with_time_zone(CampaignItem::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("campaign_item_campaign")
                    .table(CampaignItem::Table)
                    .col(CampaignItem::CampaignId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CampaignItem {
    Table,
    Id,
    CampaignId,
    Kind,
    Title,
    At,
    Url,
    Body,
    CreatedAt,
}
