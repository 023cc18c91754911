use sea_orm::entity::prelude::*;

/// A learning or career route a campaign or a trust points to (see the
/// `m20261127_000119_learning_route` and `m20261127_000120_trust_learning_route` migrations).
/// Exactly one of `campaign_id` and `trust_code` is set.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learning_route")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The campaign it belongs to; none for a trust's route.
    pub campaign_id: Option<Uuid>,
    /// The trust it belongs to (its ODS code); none for a campaign's route.
    pub trust_code: Option<String>,
    pub title: String,
    /// An `https://` address.
    pub url: String,
    /// A line about it; may be empty.
    pub description: String,
    /// The category of the campaign it fits; none: every category (always, for a trust's route).
    pub category_id: Option<Uuid>,
    /// The staff-group slug it fits; empty: every group.
    pub staff_group: String,
    /// How often its link was followed from a public page.
    pub opens: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
