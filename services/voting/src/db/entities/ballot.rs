use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ballot")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub created_at: DateTimeUtc,
    /// For a campaign's public vote: the campaign and the category this is the ballot of.
    pub campaign_id: Option<String>,
    pub category_id: Option<String>,
    pub campaign_name: String,
    /// When votes are taken (from `opens_at`, before `closes_at`) and when the results may be
    /// shown; a time not set is not scheduled.
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub results_at: Option<DateTimeUtc>,
}

impl Model {
    /// When this ballot takes votes and shows its results.
    pub fn timetable(&self) -> crate::domain::Timetable {
        crate::domain::Timetable {
            campaign: self.campaign_id.is_some(),
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            results_at: self.results_at,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
