use sea_orm::entity::prelude::*;

/// A file uploaded as a resource of a campaign's page, one per item (see the
/// `m20261127_000125_campaign_file` migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_file")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    /// The uploaded name made safe, ending in its type's extension.
    pub name: String,
    /// The type its content was found to be.
    pub content_type: String,
    pub size: i64,
    pub content: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
