//! The per-recipient throttle: at most `per_window` non-transactional emails to one address in any
//! window (a rolling 24 hours by default). An email over the limit is not dropped or folded into
//! another: it waits, still `pending`, until the oldest email counted in the window leaves it, and is
//! sent then. Transactional emails are neither limited nor counted.
//!
//! An email takes its slot (the delivery's `counted_at`) just before its first send attempt; a retry
//! after a temporary failure keeps the slot it has. On PostgreSQL the decision for one address is
//! serialised with a transaction-scoped advisory lock, so concurrent senders cannot both take the
//! last slot.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::db::delivery::{Column, Entity};

/// The outcome of asking for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Send now; the slot is recorded.
    Taken,
    /// Every slot in the window is used; one frees at this time.
    FreeAt(DateTime<Utc>),
}

/// Takes one of `recipient`'s slots for delivery `id`, if one is free. `per_window == 0` turns the
/// throttle off.
pub async fn take_slot(
    db: &DatabaseConnection,
    id: Uuid,
    recipient: &str,
    per_window: u32,
    window: Duration,
) -> Result<Slot, DbErr> {
    if per_window == 0 {
        return Ok(Slot::Taken);
    }
    let txn = db.begin().await?;
    if valued_platform::db::is_postgres(&txn) {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("notification.throttle:{recipient}").into()],
        ))
        .await?;
    }
    let now = Utc::now();
    let counted: Vec<DateTime<Utc>> = Entity::find()
        .select_only()
        .column(Column::CountedAt)
        .filter(Column::Recipient.eq(recipient))
        .filter(Column::CountedAt.gt(now - window))
        .filter(Column::Id.ne(id))
        .order_by_asc(Column::CountedAt)
        .into_tuple::<DateTime<Utc>>()
        .all(&txn)
        .await?;
    let limit = usize::try_from(per_window).unwrap_or(usize::MAX);
    let slot = if counted.len() < limit {
        Entity::update_many()
            .col_expr(Column::CountedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .exec(&txn)
            .await?;
        Slot::Taken
    } else {
        // The slot frees when enough of the oldest leave the window to bring the count below it.
        Slot::FreeAt(counted[counted.len() - limit] + window)
    };
    txn.commit().await?;
    Ok(slot)
}
