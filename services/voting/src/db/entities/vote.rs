use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vote")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ballot_id: Uuid,
    pub choice_id: String,
    /// The voter's [`VoterKey`](crate::domain::VoterKey); never the email.
    pub voter_key: String,
    pub cast_at: DateTimeUtc,
    /// `counted` (in the ledger and tally), `held` for a check, or `discarded` (never counted);
    /// see `crate::held`.
    pub status: String,
    /// Keyed digests of the network the vote came from and of the voter's email domain, for the
    /// burst checks; never the address.
    pub network: Option<String>,
    pub domain: Option<String>,
    /// The flag that held the vote: `network:<digest>` or `domain:<digest>`.
    pub held_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
