use sea_orm::entity::prelude::*;

/// A survey: its settings, and its content as one JSON document
/// ([`Definition`](crate::domain::definition::Definition)), frozen once published.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// "trust", "region" or "national".
    pub scope: String,
    pub scope_code: String,
    pub title: String,
    pub introduction: String,
    /// "draft", "published" or "closed".
    pub status: String,
    /// "open_link" or "invitation".
    pub distribution: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub closes_at: Option<DateTimeUtc>,
    pub definition: String,
    pub demographics: String,
    pub minimum_group_size: i32,
    pub invitations_issued: i64,
    /// Set at the close: the responses in the results.
    pub responses: i64,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
