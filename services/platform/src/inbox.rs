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

    use sea_orm::{ConnectionTrait, Database};
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
}
