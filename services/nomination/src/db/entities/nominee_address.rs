use sea_orm::Condition;
use sea_orm::entity::prelude::*;

/// An address a nominee's consent link was sent to: the work address a nominator typed, or one the
/// nominee gave through the claim link their manager passed on. Verified when its link is answered
/// (whoever answers holds the mailbox); until then it expires.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "nominee_address")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nominee_id: Uuid,
    /// Normalised (`EmailAddress::normalised`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// SHA-256 of the consent link's token.
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    /// When the link stops working unless it has been answered.
    pub expires_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The links that work at `now`: answered, or not yet expired.
pub fn working(now: DateTimeUtc) -> Condition {
    Condition::any()
        .add(Column::VerifiedAt.is_not_null())
        .add(Column::ExpiresAt.gt(now))
}
