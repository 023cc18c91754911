use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let key = ColumnDef::new(Nomination::NomineeKey)
            .text()
            .not_null()
            .default("")
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Nomination::Table)
                    .add_column(key)
                    .to_owned(),
            )
            .await?;
        // One nomination per nominator, nominee and category: the database refuses the second,
        // however close together they arrive. Rows from before the key existed are left out.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS nomination_once ON nomination \
                 (campaign_id, category_id, nominator_email, nominee_key) WHERE nominee_key <> ''",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nomination_by_nominator")
                    .table(Nomination::Table)
                    .col(Nomination::CampaignId)
                    .col(Nomination::NominatorEmail)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    NomineeKey,
    CampaignId,
    NominatorEmail,
}
