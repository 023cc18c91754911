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
    /// Whose campaign it is, as its newest finalist announcement said (`trust`, `region` or
    /// `national`, and the trust or region code): who may run its vote (see
    /// [`crate::organisers`]). Empty for a ballot made by hand.
    pub campaign_scope: String,
    pub campaign_scope_code: String,
    /// The region whose finalists this ballot holds, when its campaign votes per region; empty
    /// otherwise.
    pub region_code: String,
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
