use sea_orm::entity::prelude::*;

/// One judge's score of one nomination against one criterion, 0–5.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nomination_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub judge_email: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub criterion_id: Uuid,
    pub score: i32,
    pub scored_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
