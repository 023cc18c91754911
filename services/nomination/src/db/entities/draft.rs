use sea_orm::entity::prelude::*;

/// A half-finished nomination kept for its nominator, found by its resume link.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "draft")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the resume link's token.
    pub token_hash: String,
    pub campaign_id: Uuid,
    /// The answers so far, as JSON.
    pub answers: String,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
