use sea_orm::entity::prelude::*;

/// A mixed response: a random id given by the mixer (shared with nothing), its survey, and the
/// [`Sheet`](crate::domain::answers::Sheet) as JSON. No time, no invitation. The pending table
/// (`survey_pending_response`) has the same shape.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_response")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub survey_id: Uuid,
    pub sheet: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
