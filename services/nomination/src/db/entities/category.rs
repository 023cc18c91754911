use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub description: String,
    pub word_limit: i32,
    /// Display order within the campaign.
    pub position: i32,
    /// Comma-separated staff-group slugs who may be nominated; empty means all.
    pub eligible_staff_groups: String,
    /// Comma-separated band slugs who may be nominated; empty means all.
    pub eligible_bands: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The campaign a category belongs to: a submission reads both in one statement.
    #[sea_orm(
        belongs_to = "super::campaign::Entity",
        from = "Column::CampaignId",
        to = "super::campaign::Column::Id"
    )]
    Campaign,
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
