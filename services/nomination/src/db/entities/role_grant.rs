use sea_orm::entity::prelude::*;

/// A role an admin holds over a scope (see `crate::auth`), granted to an email and bound to an
/// account on its first verified sign-in.
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
    /// The ID token issuer of the account the grant is bound to; `None` until its first sign-in
    /// with a verified email (an invitation).
    pub issuer: Option<String>,
    /// The ID token subject of that account, with `issuer`.
    pub subject: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The email of the admin who revoked it, or `command line`.
    pub revoked_by: Option<String>,
    /// One more at every change: what `role.changed.v1` carries for the copies to order by.
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
