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
    /// See `crate::domain::Status`.
    pub status: String,
    pub submitted_at: DateTimeUtc,
    /// The nominee's name as compared for duplicates (see `PersonName::match_key`).
    pub nominee_key: String,
    /// The person this nomination is about, shared with colleagues' nominations of them.
    pub nominee_id: Option<Uuid>,
    /// A `Band` slug, or empty when not given.
    pub band: String,
    /// The nominee's work email, or empty.
    pub nominee_email: String,
    /// ODS site code, or empty.
    pub site_code: String,
    /// "I don't know their name": how the nominator describes them; the name is empty until a
    /// manager identifies them.
    pub nominee_description: String,
    pub team: bool,
    /// SHA-256 of the confirmation link's token; cleared when used.
    pub confirm_token_hash: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    /// Who confirmed the nominee match, or empty.
    pub match_reviewed_by: String,
    /// The moderator's reason for rejecting, or question to the nominator.
    pub moderation_reason: String,
    /// The trust winner this nomination was forwarded from (roll-up).
    pub forwarded_from: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The nominee as admins see them: the name, or that it is not known yet.
    pub fn display_name(&self) -> String {
        if self.nominee_name.is_empty() {
            "Name not known".to_owned()
        } else {
            self.nominee_name.clone()
        }
    }
}
