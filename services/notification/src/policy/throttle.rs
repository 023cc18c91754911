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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::db::delivery::{NewDelivery, insert_once};
    // The embedded default's database: SQLite, where there is no advisory lock.
    use crate::db::testing::sqlite;
    use crate::email::RenderedEmail;

    async fn delivery(db: &DatabaseConnection, to: &str) -> Uuid {
        insert_once(
            db,
            NewDelivery {
                cause_event_id: Uuid::now_v7(),
                recipient: to.into(),
                reply_to: None,
                sender_name: None,
                template: crate::templates::FINALIST_NOTICE,
                email: RenderedEmail {
                    subject: "s".into(),
                    text: "t".into(),
                    html: "h".into(),
                },
                verdict: crate::policy::Verdict::Send,
                unsolicited: None,
            },
        )
        .await
        .unwrap();
        Entity::find()
            .order_by_desc(Column::Id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    #[tokio::test]
    async fn the_slot_after_the_last_waits_for_the_oldest_to_leave_the_window() {
        let db = sqlite().await;
        let window = Duration::hours(24);
        let mut taken = Vec::new();
        for _ in 0..2 {
            let id = delivery(&db, "sam@example.org").await;
            assert_eq!(
                take_slot(&db, id, "sam@example.org", 2, window)
                    .await
                    .unwrap(),
                Slot::Taken
            );
            taken.push(id);
        }
        let third = delivery(&db, "sam@example.org").await;
        let Slot::FreeAt(at) = take_slot(&db, third, "sam@example.org", 2, window)
            .await
            .unwrap()
        else {
            panic!("a third slot in the window");
        };
        let first = Entity::find_by_id(taken[0])
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(at, first.counted_at.unwrap() + window);
        // Another address, and no limit at all, are not held back.
        let other = delivery(&db, "jo@example.org").await;
        assert_eq!(
            take_slot(&db, other, "jo@example.org", 2, window)
                .await
                .unwrap(),
            Slot::Taken
        );
        assert_eq!(
            take_slot(&db, third, "sam@example.org", 0, window)
                .await
                .unwrap(),
            Slot::Taken
        );
    }
}
