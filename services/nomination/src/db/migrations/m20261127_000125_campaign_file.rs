use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, blob, text, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A file uploaded as a resource of a campaign's page (a poster or toolkit), apart from its item so
/// that listing a page never reads the files: `bytea` on PostgreSQL, a BLOB on SQLite. Removed with
/// its item. Campaign content, not personal data.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CampaignFile::Table)
                    .if_not_exists()
                    .col(uuid(CampaignFile::ItemId).primary_key())
                    .col(text(CampaignFile::Name))
                    .col(text(CampaignFile::ContentType))
                    .col(big_integer(CampaignFile::Size))
                    .col(blob(CampaignFile::Content))
                    .foreign_key(
                        ForeignKey::create()
                            .name("campaign_file_item")
                            .from(CampaignFile::Table, CampaignFile::ItemId)
                            .to(CampaignItem::Table, CampaignItem::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CampaignFile {
    Table,
    ItemId,
    Name,
    ContentType,
    Size,
    Content,
}

#[derive(DeriveIden)]
enum CampaignItem {
    Table,
    Id,
}
