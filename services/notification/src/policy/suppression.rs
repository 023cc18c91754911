//! The suppression list: addresses that bounced permanently or complained. Global, not per trust:
//! a mailbox that does not exist does not exist for anyone.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub use self::entity::{Column, Entity, Model};

pub mod reason {
    /// The SMTP server answered RCPT TO, DATA or the message with a 5xx reply.
    pub const SMTP_REJECTED: &str = "smtp_rejected";
    /// The provider reported a permanent bounce.
    pub const BOUNCE: &str = "bounce";
    /// The recipient marked an email as spam.
    pub const COMPLAINT: &str = "complaint";
}

mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "suppression")]
    pub struct Model {
        /// The normalised address.
        #[sea_orm(primary_key, auto_increment = false)]
        pub email: String,
        pub reason: String,
        /// The server's reply or the provider's report.
        pub detail: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Whether nothing may be sent to `email` (normalised).
pub async fn is_suppressed(db: &impl ConnectionTrait, email: &str) -> Result<bool, DbErr> {
    Ok(Entity::find_by_id(email.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// Which of `emails` (normalised) are on the list, in one query.
pub async fn suppressed_among(
    db: &impl ConnectionTrait,
    emails: &[&str],
) -> Result<HashSet<String>, DbErr> {
    if emails.is_empty() {
        return Ok(HashSet::new());
    }
    let unique: BTreeSet<&str> = emails.iter().copied().collect();
    Ok(Entity::find()
        .filter(entity::Column::Email.is_in(unique))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.email)
        .collect())
}

/// Puts `email` (normalised) on the list; the first reason recorded is kept.
pub async fn suppress(
    db: &impl ConnectionTrait,
    email: &str,
    reason: &str,
    detail: &str,
) -> Result<(), DbErr> {
    Entity::insert(entity::ActiveModel {
        email: ActiveValue::Set(email.to_owned()),
        reason: ActiveValue::Set(reason.to_owned()),
        detail: ActiveValue::Set(detail.chars().take(1000).collect()),
        created_at: ActiveValue::Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([entity::Column::Email])
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
