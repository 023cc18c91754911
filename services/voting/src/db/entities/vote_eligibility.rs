use sea_orm::entity::prelude::*;

/// Who may vote in a campaign's public vote (see `crate::eligibility`); no row is a public vote.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_eligibility")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: String,
    /// Staff only; false is a public vote.
    pub staff: bool,
    /// The work-email domains that qualify, one per line, lower-case.
    pub domains: String,
    /// How many voter keys the campaign's uploaded list holds (`eligible_voter`).
    pub listed: i64,
    /// The domains the trusts taking part have set are accepted too (`trust_work_domains`).
    pub trust_domains: bool,
    pub updated_at: DateTimeUtc,
    /// The admin's email.
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
