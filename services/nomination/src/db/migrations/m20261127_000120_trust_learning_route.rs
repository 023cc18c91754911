use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, text, text_null, timestamp_with_time_zone, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A learning route belongs to a campaign or to a trust: the trust's routes reach its own staff
/// through every campaign they are thanked in. Exactly one owner is set, and a trust's route fits
/// every category (a trust has none of its own), both held by the database.
///
/// SQLite can neither relax a NOT NULL nor add a CHECK to a table, so the table is made again:
/// its rows are kept aside, the table dropped and created in its new shape, and the rows put back
/// as the campaigns' routes they are. The same steps on PostgreSQL, in the migration's transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE TABLE {KEPT} AS SELECT id, campaign_id, title, url, description, \
             category_id, staff_group, opens, created_at FROM learning_route"
        ))
        .await?;
        manager
            .drop_table(Table::drop().table(LearningRoute::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LearningRoute::Table)
                    .col(uuid(LearningRoute::Id).primary_key())
                    // The campaign it belongs to, or none for a trust's route.
                    .col(uuid_null(LearningRoute::CampaignId))
                    // The trust (its ODS code) it belongs to, or none for a campaign's route.
                    .col(text_null(LearningRoute::TrustCode))
                    .col(text(LearningRoute::Title))
                    .col(text(LearningRoute::Url))
                    .col(text(LearningRoute::Description))
                    // None: it fits every category.
                    .col(uuid_null(LearningRoute::CategoryId))
                    // A staff-group slug; empty: it fits every group.
                    .col(text(LearningRoute::StaffGroup))
                    .col(big_integer(LearningRoute::Opens).default(0))
                    .col(timestamp_with_time_zone(LearningRoute::CreatedAt))
                    .check(Check::named(
                        "learning_route_one_owner",
                        Expr::cust(
                            "(campaign_id IS NOT NULL AND trust_code IS NULL) \
                             OR (campaign_id IS NULL AND trust_code IS NOT NULL)",
                        ),
                    ))
                    .check(Check::named(
                        "learning_route_trust_fits_every_category",
                        Expr::cust("trust_code IS NULL OR category_id IS NULL"),
                    ))
                    .to_owned(),
            )
            .await?;
        // New names, not the old table's: on SQLite another pooled connection that has not yet
        // read the schema change still knows the index `learning_route_campaign` and refuses the
        // name (as the migration's test saw with a route in the table).
        for (name, column) in [
            ("learning_route_by_campaign", LearningRoute::CampaignId),
            ("learning_route_by_trust", LearningRoute::TrustCode),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LearningRoute::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        db.execute_unprepared(&format!(
            "INSERT INTO learning_route (id, campaign_id, trust_code, title, url, description, \
             category_id, staff_group, opens, created_at) SELECT id, campaign_id, NULL, title, \
             url, description, category_id, staff_group, opens, created_at FROM {KEPT}"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP TABLE {KEPT}")).await?;
        Ok(())
    }
}

/// Where the campaigns' routes wait while the table is made again.
const KEPT: &str = "learning_route_kept";

#[derive(DeriveIden)]
enum LearningRoute {
    Table,
    Id,
    CampaignId,
    TrustCode,
    Title,
    Url,
    Description,
    CategoryId,
    StaffGroup,
    Opens,
    CreatedAt,
}
