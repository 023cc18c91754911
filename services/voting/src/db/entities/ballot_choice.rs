use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ballot_choice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ballot_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub choice_id: String,
    pub label: String,
    /// Where the choice appears on the ballot, from 0.
    pub position: i32,
    /// For a finalist: what the ballot shows of them, as their consent allowed when announced.
    pub job_title: String,
    pub trust_name: String,
    pub region_name: String,
    pub story_excerpt: String,
    /// The finalist withdrew their consent to be listed: not shown, not votable.
    pub withdrawn: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
