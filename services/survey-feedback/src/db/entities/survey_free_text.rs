use sea_orm::entity::prelude::*;

/// A free-text answer taken out of the responses at the close: a random id, the question, the
/// one group it may be shown under (its trust), the text, what was flagged, and its screening.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_free_text")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub survey_id: Uuid,
    pub question_id: String,
    pub trust: String,
    /// Emptied when hidden.
    pub text: String,
    /// Flag slugs, comma-separated.
    pub flags: String,
    /// The flagged spans, as a JSON array (emptied when hidden).
    pub flagged: String,
    /// "unscreened", "approved" or "hidden".
    pub status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
