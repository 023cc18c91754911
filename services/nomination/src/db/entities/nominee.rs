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
    /// SHA-256 of the claim link's token, set when the nominee is thanked through their manager: the
    /// link where they give an address of their own, until `claim_expires_at`. Consent links are per
    /// address (`nominee_address`).
    pub claim_token_hash: Option<String>,
    pub claim_expires_at: Option<DateTimeUtc>,
    /// Work email from the first nomination that gave one, else the first address the nominee
    /// verified; empty when neither, or when its owner said the link was not for them.
    pub email: String,
    /// Consent, each given separately; all false until the nominee answers. The latest answer
    /// given through a verified address.
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
