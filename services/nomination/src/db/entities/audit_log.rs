use sea_orm::entity::prelude::*;

/// One admin action (moderation, judging, a grant, its binding or revocation, an export): who did
/// what, when.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// The email of the signed-in admin, or `command line` / `settings` for grants made there.
    pub actor: String,
    pub action: String,
    pub nomination_id: Option<Uuid>,
    pub trust_code: String,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
