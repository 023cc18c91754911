use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which nominee a waiting MP digest item is about, so that a withdrawn consent takes them out of
/// digests not yet sent.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MpDigestItem::Table)
                    .add_column(text_null(MpDigestItem::NomineeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("mp_digest_item_by_nominee")
                    .table(MpDigestItem::Table)
                    .col(MpDigestItem::NomineeId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MpDigestItem {
    Table,
    NomineeId,
}
