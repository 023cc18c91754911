use sea_orm::entity::prelude::*;

/// One entry of a ballot's vote ledger (see [`crate::ledger`] for how its hash is made).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ballot_id: Uuid,
    /// From 1, one more for each entry.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub choice_id: String,
    /// Derived from the voter key; never the voter key itself.
    pub voter_hash: String,
    /// The hour the vote was cast in, never the exact time.
    pub cast_hour: DateTimeUtc,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
