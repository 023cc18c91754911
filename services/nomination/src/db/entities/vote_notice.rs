use sea_orm::entity::prelude::*;

/// A finalist told of one of their public vote's moments (see `crate::public_vote`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nomination_id: Uuid,
    /// `vote_opened` or `results_released`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub notice: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
