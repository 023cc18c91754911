use sea_orm::entity::prelude::*;

/// A role an admin holds over a scope (see `crate::auth`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "role_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role: String,
    /// Trust or region code, campaign id for judges, empty for platform admins.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
