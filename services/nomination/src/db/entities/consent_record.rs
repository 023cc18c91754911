use sea_orm::entity::prelude::*;

/// One answer a nominee gave through their consent link, kept as given: the consent history.
/// Append-only; the nominee's current answers are on `nominee`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub nominee_id: Uuid,
    pub listed_publicly: bool,
    pub story_published: bool,
    pub shared_with_mp: bool,
    pub recorded_at: DateTimeUtc,
    /// The verified address (normalised) whose link gave the answer; `None` for answers given
    /// before consent links were bound to an address.
    pub address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
