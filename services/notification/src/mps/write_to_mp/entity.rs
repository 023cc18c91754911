use sea_orm::entity::prelude::*;

/// A supporter's letter to their MP (see `write_to_mp`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mp_letter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: i32,
    pub constituency_code: String,
    pub supporter_name: String,
    /// Normalised (`EmailAddress::normalised`), so limits count a person once.
    pub supporter_email: String,
    pub supporter_postcode: String,
    pub body: String,
    /// `unconfirmed`, `sent` (handed to the sender) or `held` (unusual volume: a person reviews it).
    pub status: String,
    /// SHA-256 of the single-use confirmation link's token; cleared when used.
    pub confirm_token_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
