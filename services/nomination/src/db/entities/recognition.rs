use sea_orm::entity::prelude::*;

/// A nomination announced as a finalist or winner.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recognition")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nomination_id: Uuid,
    /// `finalist` or `winner`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub campaign_id: Uuid,
    pub category_id: Uuid,
    pub region_code: String,
    pub announced_by: String,
    pub announced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
