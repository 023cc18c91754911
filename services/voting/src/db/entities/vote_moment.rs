use sea_orm::entity::prelude::*;

/// A moment of a public vote's timetable that was announced, once (see `crate::moments`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_moment")]
pub struct Model {
    /// `opened:<campaign id>` or `released:<ballot id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub campaign_id: String,
    pub ballot_id: Option<Uuid>,
    /// At a release: the ledger head and entry count it was released with.
    pub detail: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
