use sea_orm::entity::prelude::*;

/// A key date, resource or news item on a campaign's page (see the
/// `m20261127_000116_campaign_item` migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    /// "date", "resource" or "news".
    pub kind: String,
    pub title: String,
    /// A key date's day, a news item's; none for a resource.
    pub at: Option<DateTimeUtc>,
    /// A resource's link; empty otherwise.
    pub url: String,
    /// A news item's text, or a line about a date or resource.
    pub body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
