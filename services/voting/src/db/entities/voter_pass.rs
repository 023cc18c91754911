use sea_orm::entity::prelude::*;

/// A verified voter's pass for a campaign's ballots (see `crate::verification`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "voter_pass")]
pub struct Model {
    /// SHA-256 of the pass the voter's browser holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub pass_hash: String,
    pub campaign_id: String,
    pub voter_key: String,
    pub expires_at: DateTimeUtc,
    /// Keyed digests of the voter's email domain and of each parent domain, space-separated
    /// (see `crate::eligibility`).
    pub domains: String,
    /// The address the voter verified, for their "your vote counted" emails; cleared when the pass
    /// expires (retention) or the person is erased.
    pub email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
