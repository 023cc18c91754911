use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "nomination")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub category_id: Uuid,
    pub trust_code: String,
    pub nominee_name: String,
    pub nominee_job_title: String,
    pub staff_group: String,
    pub story: String,
    pub nominator_name: String,
    pub nominator_email: String,
    pub relationship: String,
    /// `submitted` until moderation exists.
    pub status: String,
    pub submitted_at: DateTimeUtc,
    /// The nominee's name as compared for duplicates (see `PersonName::match_key`).
    pub nominee_key: String,
    /// The person this nomination is about, shared with colleagues' nominations of them.
    pub nominee_id: Option<Uuid>,
    /// A `Band` slug, or empty when not given.
    pub band: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
