use sea_orm::entity::prelude::*;

use crate::domain::Windows;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// `trust`, `region` or `national`; `scope_code` names the trust or region.
    pub scope: String,
    pub scope_code: Option<String>,
    pub nominations_open_at: Option<DateTimeUtc>,
    pub nominations_close_at: Option<DateTimeUtc>,
    pub judging_close_at: Option<DateTimeUtc>,
    pub vote_open_at: Option<DateTimeUtc>,
    pub vote_close_at: Option<DateTimeUtc>,
    pub results_at: Option<DateTimeUtc>,
    /// Finalists chosen per region and category (national and regional campaigns).
    pub finalists_per_region: i32,
    /// The public vote has a ballot per region and category instead of one per category.
    pub vote_per_region: bool,
    /// Nominations one person (by email) may make to this campaign; `None`: the service-wide
    /// default.
    pub nominations_per_nominator: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The campaign's timetable.
    pub fn windows(&self) -> Windows {
        Windows {
            nominations_open_at: self.nominations_open_at,
            nominations_close_at: self.nominations_close_at,
            judging_close_at: self.judging_close_at,
            vote_open_at: self.vote_open_at,
            vote_close_at: self.vote_close_at,
            results_at: self.results_at,
        }
    }

    /// Nominations one person may make to this campaign: its own limit, or else `default`, the
    /// service-wide one.
    pub fn nominations_per_nominator(&self, default: u64) -> u64 {
        self.nominations_per_nominator
            .and_then(|limit| u64::try_from(limit).ok())
            .unwrap_or(default)
    }
}
