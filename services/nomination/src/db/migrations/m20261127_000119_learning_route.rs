use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, timestamp_with_time_zone, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Learning and career routes a campaign's admins point its nominees and visitors to
/// (apprenticeships, the support workforce framework for Bands 1 to 4, a trust's learning pages),
/// each fitting one of the campaign's categories and/or one staff group, or everyone. `opens`
/// counts how often the link was followed from a public page: a number, nothing about who.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LearningRoute::Table)
                    .if_not_exists()
                    .col(uuid(LearningRoute::Id).primary_key())
                    .col(uuid(LearningRoute::CampaignId))
                    .col(text(LearningRoute::Title))
                    .col(text(LearningRoute::Url))
                    .col(text(LearningRoute::Description))
                    // None: it fits every category.
                    .col(uuid_null(LearningRoute::CategoryId))
                    // A staff-group slug; empty: it fits every group.
                    .col(text(LearningRoute::StaffGroup))
                    .col(big_integer(LearningRoute::Opens).default(0))
                    .col(timestamp_with_time_zone(LearningRoute::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("learning_route_campaign")
                    .table(LearningRoute::Table)
                    .col(LearningRoute::CampaignId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LearningRoute {
    Table,
    Id,
    CampaignId,
    Title,
    Url,
    Description,
    CategoryId,
    StaffGroup,
    Opens,
    CreatedAt,
}
