use sea_orm::entity::prelude::*;

use crate::domain::Consent;

/// A person nominated in a campaign, however many colleagues nominated them.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "nominee")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub trust_code: String,
    /// The name as first given.
    pub name: String,
    pub name_key: String,
    pub role_key: String,
    pub created_at: DateTimeUtc,
    /// SHA-256 of the consent link's token, set when the nominee is thanked.
    pub consent_token_hash: Option<String>,
    /// Work email from the first nomination that gave one, or empty.
    pub email: String,
    /// Consent, each given separately; all false until the nominee answers.
    pub listed_publicly: bool,
    pub story_published: bool,
    pub shared_with_mp: bool,
    pub consent_answered_at: Option<DateTimeUtc>,
    pub thanked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What the nominee has agreed to so far.
    pub fn consent(&self) -> Consent {
        Consent {
            listed_publicly: self.listed_publicly,
            story_published: self.story_published,
            shared_with_mp: self.shared_with_mp,
        }
    }
}
