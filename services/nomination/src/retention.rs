//! What the nomination service keeps and for how long (UK GDPR storage limitation). A draft is gone
//! once it expires; a nomination whose nominator never confirmed it never counted, so after
//! `unconfirmed_days` it is deleted with its confirm-token hash, and a nominee it created that no
//! other nomination names and who was never thanked goes with it. A nominee's claim link and a
//! consent link nobody answered go once they expire, with the address an unanswered link was sent
//! to. Confirmed nominations, the audit log and the recognised are kept: they are what the campaign
//! is. A submission's idempotency key goes a day after it came. Files uploaded to a campaign's page are campaign content, not personal data: kept until an
//! admin removes their item (see [`crate::admin::page_files`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;

use crate::db::entities::{draft, nomination, nominee, nominee_address};
use crate::domain::Status;

/// Rows one statement deletes at most, so that a purge never holds a long lock.
const BATCH: u64 = 500;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Days an unconfirmed nomination (and its confirm link) is kept.
    pub unconfirmed_days: u32,
    /// How often the purge runs.
    pub check_seconds: u64,
    /// Days a handled event's inbox row is kept (`0`: kept).
    pub inbox_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            unconfirmed_days: 30,
            check_seconds: 3_600,
            inbox_days: 30,
        }
    }
}

/// What one purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub drafts: u64,
    pub unconfirmed: u64,
    pub nominees: u64,
    /// Expired claim links, and expired unanswered consent links with their addresses.
    pub links: u64,
    /// Idempotency keys of submissions older than a day.
    pub keys: u64,
}

/// Deletes, as of `now`, every expired draft and every nomination left unconfirmed for longer than
/// `settings.unconfirmed_days`, with the nominees only they named, in batches of [`BATCH`]; and the
/// expired claim and unanswered consent links.
pub async fn purge(
    db: &impl ConnectionTrait,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<Purged, sea_orm::DbErr> {
    let cutoff = now - chrono::Duration::days(i64::from(settings.unconfirmed_days));
    let mut purged = Purged::default();
    loop {
        let ids: Vec<uuid::Uuid> = draft::Entity::find()
            .select_only()
            .column(draft::Column::Id)
            .filter(draft::Column::ExpiresAt.lt(now))
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        purged.drafts += draft::Entity::delete_many()
            .filter(draft::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    loop {
        let ids: Vec<uuid::Uuid> = nomination::Entity::find()
            .select_only()
            .column(nomination::Column::Id)
            .filter(nomination::Column::Status.eq(Status::Unconfirmed.slug()))
            .filter(nomination::Column::SubmittedAt.lt(cutoff))
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        purged.unconfirmed += nomination::Entity::delete_many()
            .filter(nomination::Column::Id.is_in(ids))
            // Confirmed in the meantime: kept.
            .filter(nomination::Column::Status.eq(Status::Unconfirmed.slug()))
            .exec(db)
            .await?
            .rows_affected;
    }
    // A nominee no nomination names any more, never thanked, and older than the cutoff (so not one
    // a nomination being submitted right now has just found).
    let named = Query::select()
        .expr(Expr::val(1))
        .from(nomination::Entity)
        .and_where(
            Expr::col((nomination::Entity, nomination::Column::NomineeId))
                .equals((nominee::Entity, nominee::Column::Id)),
        )
        .to_owned();
    purged.nominees = nominee::Entity::delete_many()
        .filter(nominee::Column::ThankedAt.is_null())
        .filter(nominee::Column::CreatedAt.lt(cutoff))
        .filter(Expr::exists(named).not())
        .exec(db)
        .await?
        .rows_affected;
    purged.links += nominee::Entity::update_many()
        .col_expr(nominee::Column::ClaimTokenHash, Expr::value(None::<String>))
        .col_expr(
            nominee::Column::ClaimExpiresAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(nominee::Column::ClaimExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    purged.links += nominee_address::Entity::delete_many()
        .filter(nominee_address::Column::VerifiedAt.is_null())
        .filter(nominee_address::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    purged.keys = valued_platform::idempotency::purge(db, now).await?;
    Ok(purged)
}
