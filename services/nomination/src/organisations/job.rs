//! The bookkeeping of an import from the browser: one row per file, taken up under a lease so
//! only one replica writes it at a time, its count of rows written advanced in each batch's own
//! transaction, and the file dropped when it ends.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::db::entities::organisation_import::{self, Column};

pub const IMPORTING: &str = "importing";
pub const IMPORTED: &str = "imported";
pub const FAILED: &str = "failed";

/// How long a replica holds an import between batches before another may take it over.
pub const LEASE: Duration = Duration::seconds(30);

/// How many times an import is taken up before it is given up as failed.
pub const ATTEMPTS: i32 = 5;

/// Row counts of a checked file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub regions: usize,
    pub trusts: usize,
    pub sites: usize,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Stores a checked file as an import to be written.
pub async fn insert(
    db: &impl ConnectionTrait,
    started_by: &str,
    csv: &[u8],
    counts: Counts,
    now: DateTime<Utc>,
) -> Result<organisation_import::Model, DbErr> {
    let row = organisation_import::Model {
        id: Uuid::now_v7(),
        started_by: started_by.to_owned(),
        csv: csv.to_vec(),
        regions: count(counts.regions),
        trusts: count(counts.trusts),
        sites: count(counts.sites),
        written: 0,
        state: IMPORTING.to_owned(),
        failure: String::new(),
        attempts: 0,
        lease_until: None,
        created_at: now,
        finished_at: None,
    };
    organisation_import::Entity::insert(organisation_import::ActiveModel::from(row.clone()))
        .exec_without_returning(db)
        .await?;
    Ok(row)
}

/// Takes up the oldest import no replica holds, for [`LEASE`]; none when there is none.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Option<organisation_import::Model>, DbErr> {
    let free = || {
        Condition::any()
            .add(Column::LeaseUntil.is_null())
            .add(Column::LeaseUntil.lt(now))
    };
    let waiting = organisation_import::Entity::find()
        .filter(Column::State.eq(IMPORTING))
        .filter(free())
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?;
    for job in waiting {
        // Taken only if nobody took it since it was read.
        let taken = organisation_import::Entity::update_many()
            .col_expr(Column::LeaseUntil, Expr::value(Some(now + LEASE)))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::Id.eq(job.id))
            .filter(Column::State.eq(IMPORTING))
            .filter(Column::Attempts.eq(job.attempts))
            .filter(free())
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Some(organisation_import::Model {
                attempts: job.attempts + 1,
                lease_until: Some(now + LEASE),
                ..job
            }));
        }
    }
    Ok(None)
}

/// Counts `rows` more as written, from `written`, renewing the lease; false when the import is no
/// longer this replica's (another took it over), and the caller's transaction must not commit.
pub async fn advance(
    txn: &impl ConnectionTrait,
    job: &organisation_import::Model,
    written: i64,
    rows: usize,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let advanced = organisation_import::Entity::update_many()
        .col_expr(
            Column::Written,
            Expr::value(written + i64::try_from(rows).unwrap_or(i64::MAX)),
        )
        .col_expr(Column::LeaseUntil, Expr::value(Some(now + LEASE)))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Attempts.eq(job.attempts))
        .filter(Column::Written.eq(written))
        .exec(txn)
        .await?;
    Ok(advanced.rows_affected == 1)
}

/// Ends an import as `state` (with `failure` when it failed), dropping its file.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    state: &str,
    failure: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    organisation_import::Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::Failure, Expr::value(failure))
        .col_expr(Column::Csv, Expr::value(Vec::<u8>::new()))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::FinishedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(IMPORTING))
        .exec(db)
        .await?;
    Ok(())
}

/// Lets another round (or replica) take an import up at once after this one could not go on,
/// keeping why for the page and for the time it is given up.
pub async fn release(
    db: &impl ConnectionTrait,
    job: &organisation_import::Model,
    problem: &str,
) -> Result<(), DbErr> {
    organisation_import::Entity::update_many()
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::Failure, Expr::value(problem))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Attempts.eq(job.attempts))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<organisation_import::Model>, DbErr> {
    organisation_import::Entity::find_by_id(id).one(db).await
}
