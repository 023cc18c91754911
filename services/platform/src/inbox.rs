//! The idempotent inbox: a handler's effects and the row `(consumer, event_id)` commit together, and a
//! conflict on that row means the event was already handled. Redelivery never doubles an effect.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{
    ActiveValue, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
    TryInsertResult,
};

use crate::bus::{EventHandler, HandlerError};
use crate::envelope::Envelope;

mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub processed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How long a service keeps the inbox rows of the events it handled (`<service>.retention.*`): long
/// enough to recognise a redelivery (which comes back within moments) and to replay a dead letter
/// by hand, not for ever.
#[derive(Debug, Clone, Copy, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct InboxRetention {
    /// Days a handled event's row is kept (`0`: kept).
    pub inbox_days: u32,
    /// How often the purge runs.
    pub check_seconds: u64,
}

impl Default for InboxRetention {
    fn default() -> Self {
        Self {
            inbox_days: 30,
            check_seconds: 3_600,
        }
    }
}

impl InboxRetention {
    /// Rows of events handled before this are due, as of `now`; `None` when they are kept.
    pub fn due_before(&self, now: chrono::DateTime<Utc>) -> Option<chrono::DateTime<Utc>> {
        (self.inbox_days > 0).then(|| now - chrono::Duration::days(i64::from(self.inbox_days)))
    }
}

/// Deletes at most `limit` inbox rows of events handled before `before` (one short statement);
/// returns how many.
pub async fn delete_handled_before(
    db: &impl sea_orm::ConnectionTrait,
    before: chrono::DateTime<Utc>,
    limit: u64,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let keys = Query::select()
        .columns([entity::Column::Consumer, entity::Column::EventId])
        .from(entity::Entity)
        .and_where(Expr::col(entity::Column::ProcessedAt).lt(before))
        .limit(limit)
        .to_owned();
    let delete = Query::delete()
        .from_table(entity::Entity)
        .and_where(
            Expr::tuple([
                Expr::col(entity::Column::Consumer),
                Expr::col(entity::Column::EventId),
            ])
            .in_subquery(keys),
        )
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}

/// Deletes every inbox row of an event handled before `before`, 500 at a time; returns how many.
pub async fn purge(
    db: &impl sea_orm::ConnectionTrait,
    before: chrono::DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    const BATCH: u64 = 500;
    let mut deleted = 0;
    loop {
        let batch = delete_handled_before(db, before, BATCH).await?;
        deleted += batch;
        if batch < BATCH {
            return Ok(deleted);
        }
    }
}

/// An event handler whose work happens in one database transaction.
#[async_trait]
pub trait TransactionalHandler: Send + Sync + 'static {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError>;

    /// Runs after a successful commit (e.g. to wake a worker that acts on what was written).
    fn after_commit(&self) {}
}

/// Wraps a [`TransactionalHandler`] so each event takes effect once per consumer.
pub struct Idempotent<H> {
    consumer: String,
    db: DatabaseConnection,
    inner: H,
}

impl<H: TransactionalHandler> Idempotent<H> {
    pub fn new(consumer: &str, db: DatabaseConnection, inner: H) -> Arc<Self> {
        Arc::new(Self {
            consumer: consumer.to_owned(),
            db,
            inner,
        })
    }
}

#[async_trait]
impl<H: TransactionalHandler> EventHandler for Idempotent<H> {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let retry = |e: sea_orm::DbErr| HandlerError::Retry(e.into());
        let txn = self.db.begin().await.map_err(retry)?;
        let claimed = entity::Entity::insert(entity::ActiveModel {
            consumer: ActiveValue::Set(self.consumer.clone()),
            event_id: ActiveValue::Set(envelope.id),
            processed_at: ActiveValue::Set(Utc::now()),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&txn)
        .await
        .map_err(retry)?;
        // sea-orm 2 reports a row skipped by ON CONFLICT DO NOTHING as `Inserted(0)`, not
        // `Conflicted`: no row written means the event was handled before.
        if !matches!(claimed, TryInsertResult::Inserted(rows) if rows > 0) {
            tracing::debug!(consumer = %self.consumer, event_id = %envelope.id, "already handled");
            return Ok(());
        }
        self.inner.handle(&txn, envelope).await?;
        txn.commit().await.map_err(retry)?;
        self.inner.after_commit();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::{ConnectionTrait, Database, PaginatorTrait};
    use sea_orm_migration::MigratorTrait;

    use super::*;

    /// Counts its calls: an effect no unique index protects.
    struct Counting(Arc<AtomicUsize>);

    #[async_trait]
    impl TransactionalHandler for Counting {
        async fn handle(&self, _: &DatabaseTransaction, _: &Envelope) -> Result<(), HandlerError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_event_delivered_three_times_takes_effect_once() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        crate::migrations::Messaging::up(&db, None).await.unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let inbox = Idempotent::new("test", db.clone(), Counting(calls.clone()));
        let envelope = Envelope::new("test", None, &valued_proto::events::v1::VoteCast::default());
        for _ in 0..3 {
            inbox.handle(&envelope).await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let rows = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM inbox",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[tokio::test]
    async fn rows_of_events_handled_before_the_retention_go_in_batches_and_newer_stay() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        crate::migrations::Messaging::up(&db, None).await.unwrap();
        let now = Utc::now();
        let rows = (0..1_203).map(|i| entity::ActiveModel {
            consumer: ActiveValue::Set("test".into()),
            event_id: ActiveValue::Set(uuid::Uuid::now_v7()),
            processed_at: ActiveValue::Set(if i < 1_200 {
                now - chrono::Duration::days(31)
            } else {
                now - chrono::Duration::days(29)
            }),
        });
        for chunk in rows.collect::<Vec<_>>().chunks(300) {
            entity::Entity::insert_many(chunk.to_vec())
                .exec(&db)
                .await
                .unwrap();
        }
        let retention = InboxRetention::default();
        let before = retention.due_before(now).unwrap();
        assert_eq!(purge(&db, before).await.unwrap(), 1_200);
        assert_eq!(entity::Entity::find().count(&db).await.unwrap(), 3);
        let kept = InboxRetention {
            inbox_days: 0,
            ..retention
        };
        assert_eq!(kept.due_before(now), None);
    }
}
