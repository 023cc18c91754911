use sea_orm::entity::prelude::*;

/// A domain of a trust's staff's work email addresses (e.g. `nhs.net`, `gstt.nhs.uk`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "trust_email_domain")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub trust_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
