use sea_orm::entity::prelude::*;

/// A place where a trust's staff work (a hospital, a clinic), by its 5-character ODS code.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "site")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub trust_code: String,
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
