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
        if matches!(claimed, TryInsertResult::Conflicted) {
            tracing::debug!(consumer = %self.consumer, event_id = %envelope.id, "already handled");
            return Ok(());
        }
        self.inner.handle(&txn, envelope).await?;
        txn.commit().await.map_err(retry)?;
        self.inner.after_commit();
        Ok(())
    }
}
