use sea_orm::entity::prelude::*;

/// The address a held vote's receipt goes to once an admin counts the vote: kept only while the
/// vote is on hold (see `crate::held`); deleted when its group is decided, once the ballot's
/// results time has passed, and on erasure.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "held_receipt")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vote_id: Uuid,
    /// The voter's [`VoterKey`](crate::domain::VoterKey), for subject access and erasure.
    pub voter_key: String,
    pub email: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
