//! How long the suggestion box keeps what it holds (see README's retention section):
//! - a named suggester's name and address: until `forget_contact_days` after the suggestion was
//!   rejected or given a final status (we did it, not this time), and never longer than
//!   `keep_contact_max_days` after it was posted; the suggestion then stays as if anonymous;
//! - a rejected suggestion: deleted `delete_rejected_days` after it was rejected.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use serde::Deserialize;

use super::domain::{Moderation, Status};
use super::entities::{suggestion, support};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SuggestionRetention {
    pub forget_contact_days: u32,
    pub keep_contact_max_days: u32,
    pub delete_rejected_days: u32,
    /// How often the job runs.
    pub check_seconds: u64,
}

impl Default for SuggestionRetention {
    fn default() -> Self {
        Self {
            forget_contact_days: 30,
            keep_contact_max_days: 365,
            delete_rejected_days: 30,
            check_seconds: 3600,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub contacts_forgotten: u64,
    pub rejected_deleted: u64,
}

/// One retention round at `now`.
pub async fn purge(
    db: &DatabaseConnection,
    retention: SuggestionRetention,
    now: DateTime<Utc>,
) -> Result<Purged, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let db = &txn;
    let days = |n: u32| now - Duration::days(i64::from(n));
    let finals: Vec<&str> = Status::ALL
        .into_iter()
        .filter(|s| s.is_final())
        .map(Status::slug)
        .collect();
    let settled = Condition::any()
        .add(suggestion::Column::Moderation.eq(Moderation::Rejected.slug()))
        .add(suggestion::Column::Status.is_in(finals));
    let due = Condition::any()
        .add(
            Condition::all()
                .add(settled)
                .add(suggestion::Column::DecidedAt.lt(days(retention.forget_contact_days))),
        )
        .add(suggestion::Column::PostedOn.lt(days(retention.keep_contact_max_days).date_naive()));
    let contacts_forgotten = super::queries::forget_suggesters()
        .filter(suggestion::Column::SuggesterEmail.is_not_null())
        .filter(due)
        .exec(db)
        .await?
        .rows_affected;
    let rejected = Condition::all()
        .add(suggestion::Column::Moderation.eq(Moderation::Rejected.slug()))
        .add(suggestion::Column::DecidedAt.lt(days(retention.delete_rejected_days)));
    let ids: Vec<uuid::Uuid> = suggestion::Entity::find()
        .filter(rejected.clone())
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if !ids.is_empty() {
        support::Entity::delete_many()
            .filter(support::Column::SuggestionId.is_in(ids.clone()))
            .exec(db)
            .await?;
    }
    let rejected_deleted = if ids.is_empty() {
        0
    } else {
        suggestion::Entity::delete_many()
            .filter(suggestion::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected
    };
    txn.commit().await?;
    Ok(Purged {
        contacts_forgotten,
        rejected_deleted,
    })
}
