//! The idempotent inbox: a handler's effects and the row `(consumer, event_id)` commit together, and a
//! conflict on that row means the event was already handled. Redelivery never doubles an effect.
//!
//! Group commit: events that arrive while the consumer's transactions are all busy wait together
//! and are handled in the next transaction, up to [`BATCH_AT_MOST`] to a commit. One event alone
//! still gets a transaction at once, so a quiet consumer waits for nothing; a busy one pays one
//! commit per batch instead of one per event. Should any event of a batch fail (or the commit),
//! the batch is rolled back and each of its events handled again in a transaction of its own, so
//! one poison event is dead-lettered alone and never takes its neighbours with it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use tokio::sync::{Semaphore, oneshot};
use tracing::Instrument;

use crate::bus::{EventHandler, HandlerError};
use crate::envelope::Envelope;

/// Events handled in one transaction, at most.
pub const BATCH_AT_MOST: usize = 64;

/// A consumer's transactions at once: each takes a database connection for its length.
pub const TRANSACTIONS_AT_ONCE: usize = 4;

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

    /// Handles several events in one transaction, in order. The default handles them one after
    /// another, each in a span continuing its own trace; a handler whose work can be done for a
    /// batch with set-based statements overrides it. Either way an error rolls back all of them.
    async fn handle_all(
        &self,
        txn: &DatabaseTransaction,
        envelopes: &[&Envelope],
    ) -> Result<(), HandlerError> {
        for envelope in envelopes {
            let span = tracing::info_span!("handle", messaging.message.id = %envelope.id);
            crate::telemetry::set_parent(&span, envelope.traceparent.as_deref());
            self.handle(txn, envelope).instrument(span).await?;
        }
        Ok(())
    }

    /// Runs after a successful commit (e.g. to wake a worker that acts on what was written).
    fn after_commit(&self) {}
}

/// Wraps a [`TransactionalHandler`] so each event takes effect once per consumer, events that
/// arrive together sharing a transaction (see the module's documentation).
pub struct Idempotent<H> {
    consumer: String,
    db: DatabaseConnection,
    inner: H,
    /// Events waiting for a transaction, oldest first.
    waiting: Mutex<VecDeque<Waiting>>,
    transactions: Semaphore,
}

/// An event waiting for a transaction, and where its outcome goes.
struct Waiting {
    envelope: Envelope,
    outcome: oneshot::Sender<Result<(), HandlerError>>,
}

impl<H: TransactionalHandler> Idempotent<H> {
    pub fn new(consumer: &str, db: DatabaseConnection, inner: H) -> Arc<Self> {
        Arc::new(Self {
            consumer: consumer.to_owned(),
            db,
            inner,
            waiting: Mutex::new(VecDeque::new()),
            transactions: Semaphore::new(TRANSACTIONS_AT_ONCE),
        })
    }

    /// Takes up to [`BATCH_AT_MOST`] waiting events, oldest first.
    fn take_waiting(&self) -> Vec<Waiting> {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = waiting.len().min(BATCH_AT_MOST);
        waiting.drain(..count).collect()
    }

    /// Claims the inbox rows of every event in `envelopes` in one statement; returns the events not
    /// handled before, in order, each once.
    async fn claim_all<'e>(
        &self,
        txn: &DatabaseTransaction,
        envelopes: impl Iterator<Item = &'e Envelope>,
    ) -> Result<Vec<&'e Envelope>, sea_orm::DbErr> {
        use sea_orm::sea_query::{OnConflict, Query};
        use sea_orm::{ConnectionTrait, StatementBuilder};
        let mut seen = std::collections::HashSet::new();
        let envelopes: Vec<&Envelope> = envelopes.filter(|e| seen.insert(e.id)).collect();
        let now = Utc::now();
        let mut insert = Query::insert();
        insert
            .into_table(entity::Entity)
            .columns([
                entity::Column::Consumer,
                entity::Column::EventId,
                entity::Column::ProcessedAt,
            ])
            .on_conflict(
                OnConflict::columns([entity::Column::Consumer, entity::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(entity::Column::EventId);
        for envelope in &envelopes {
            insert
                .values([self.consumer.clone().into(), envelope.id.into(), now.into()])
                .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        }
        let statement = StatementBuilder::build(&insert, &txn.get_database_backend());
        let mut claimed = std::collections::HashSet::new();
        for row in txn.query_all_raw(statement).await? {
            claimed.insert(row.try_get::<uuid::Uuid>("", "event_id")?);
        }
        for envelope in envelopes.iter().filter(|e| !claimed.contains(&e.id)) {
            tracing::debug!(consumer = %self.consumer, event_id = %envelope.id, "already handled");
        }
        Ok(envelopes
            .into_iter()
            .filter(|e| claimed.contains(&e.id))
            .collect())
    }

    /// One event in a transaction of its own.
    async fn handle_alone(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let txn = self.db.begin().await.map_err(retry)?;
        let fresh = self
            .claim_all(&txn, std::iter::once(envelope))
            .await
            .map_err(retry)?;
        if fresh.is_empty() {
            return Ok(());
        }
        self.inner.handle_all(&txn, &fresh).await?;
        txn.commit().await.map_err(retry)?;
        self.inner.after_commit();
        Ok(())
    }

    /// Every event of `batch` in one transaction; any failure rolls back the lot.
    async fn handle_together(&self, batch: &[Waiting]) -> Result<(), HandlerError> {
        let txn = self.db.begin().await.map_err(retry)?;
        let fresh = self
            .claim_all(&txn, batch.iter().map(|waiting| &waiting.envelope))
            .await
            .map_err(retry)?;
        if !fresh.is_empty() {
            self.inner.handle_all(&txn, &fresh).await?;
        }
        txn.commit().await.map_err(retry)?;
        self.inner.after_commit();
        Ok(())
    }

    /// Handles `batch` together, or each event alone should that fail; answers every event.
    async fn handle_batch(&self, batch: Vec<Waiting>) {
        if batch.len() > 1 {
            match self.handle_together(&batch).await {
                Ok(()) => {
                    for waiting in batch {
                        let _ = waiting.outcome.send(Ok(()));
                    }
                    return;
                }
                Err(error) => {
                    tracing::debug!(consumer = %self.consumer, events = batch.len(), %error, "a batch failed: its events are handled one by one");
                }
            }
        }
        for waiting in batch {
            let outcome = self.handle_alone(&waiting.envelope).await;
            let _ = waiting.outcome.send(outcome);
        }
    }
}

fn retry(error: sea_orm::DbErr) -> HandlerError {
    HandlerError::Retry(error.into())
}

#[async_trait]
impl<H: TransactionalHandler> EventHandler for Idempotent<H> {
    /// Queues the event, then either finds it handled by another caller's transaction or takes a
    /// transaction and handles whatever is waiting, its own event among it or not.
    ///
    /// The queued copy's `traceparent` is the caller's span (the consumer's receive span), so that
    /// whichever transaction handles it continues that trace.
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let (outcome, mut answered) = oneshot::channel();
        let mut envelope = envelope.clone();
        if let Some(traceparent) = crate::telemetry::current_traceparent() {
            envelope.traceparent = Some(traceparent);
        }
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(Waiting { envelope, outcome });
        let abandoned = |_| {
            HandlerError::Retry(anyhow::anyhow!(
                "the transaction that took the event was abandoned"
            ))
        };
        loop {
            let permit = tokio::select! {
                biased;
                outcome = &mut answered => return outcome.unwrap_or_else(|e| Err(abandoned(e))),
                permit = self.transactions.acquire() => permit,
            };
            let Ok(permit) = permit else {
                return Err(HandlerError::Retry(anyhow::anyhow!("the inbox is closed")));
            };
            let batch = self.take_waiting();
            if batch.is_empty() {
                // Another caller's transaction holds this event.
                drop(permit);
                return answered.await.unwrap_or_else(|e| Err(abandoned(e)));
            }
            self.handle_batch(batch).await;
            drop(permit);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::{ActiveValue, ConnectionTrait, Database, EntityTrait, PaginatorTrait};
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
        assert_eq!(inbox_rows(&db).await, 1);
    }

    /// Counts its calls and its commits; takes a little while, so events gather behind it; poisons
    /// the events whose ids are listed.
    struct Slow {
        calls: Arc<AtomicUsize>,
        commits: Arc<AtomicUsize>,
        poison: Vec<uuid::Uuid>,
    }

    #[async_trait]
    impl TransactionalHandler for Slow {
        async fn handle(
            &self,
            _: &DatabaseTransaction,
            envelope: &Envelope,
        ) -> Result<(), HandlerError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            if self.poison.contains(&envelope.id) {
                return Err(HandlerError::Poison(anyhow::anyhow!("cannot be handled")));
            }
            Ok(())
        }

        fn after_commit(&self) {
            self.commits.fetch_add(1, Ordering::SeqCst);
        }
    }

    async fn inbox_rows(db: &DatabaseConnection) -> i64 {
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM inbox",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    }

    fn events(count: usize) -> Vec<Envelope> {
        (0..count)
            .map(|_| Envelope::new("test", None, &valued_proto::events::v1::VoteCast::default()))
            .collect()
    }

    /// Hands every event to the inbox at once, each on its own task, as a consumer's prefetch does.
    async fn all_at_once<H: TransactionalHandler>(
        inbox: &Arc<Idempotent<H>>,
        events: &[Envelope],
    ) -> Vec<Result<(), HandlerError>> {
        let tasks: Vec<_> = events
            .iter()
            .cloned()
            .map(|envelope| {
                let inbox = inbox.clone();
                tokio::spawn(async move { inbox.handle(&envelope).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        outcomes
    }

    /// A [`Slow`] handler behind the inbox on a fresh SQLite database, with its call and commit
    /// counters.
    async fn slow_inbox(
        poison: Vec<uuid::Uuid>,
    ) -> (
        DatabaseConnection,
        Arc<Idempotent<Slow>>,
        Arc<AtomicUsize>,
        Arc<AtomicUsize>,
    ) {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        crate::migrations::Messaging::up(&db, None).await.unwrap();
        let (calls, commits) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let handler = Slow {
            calls: calls.clone(),
            commits: commits.clone(),
            poison,
        };
        let inbox = Idempotent::new("test", db.clone(), handler);
        (db, inbox, calls, commits)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_that_arrive_together_share_commits_and_each_takes_effect_once() {
        let (db, inbox, calls, commits) = slow_inbox(vec![]).await;
        let mut sent = events(200);
        // The same event delivered twice, in the same wave.
        sent.push(sent[7].clone());
        let outcomes = all_at_once(&inbox, &sent).await;
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(calls.load(Ordering::SeqCst), 200, "each event handled once");
        assert_eq!(inbox_rows(&db).await, 200);
        let commits = commits.load(Ordering::SeqCst);
        assert!(commits < 50, "200 events at once took {commits} commits");
        // Delivered again later: nothing happens twice.
        let again = all_at_once(&inbox, &sent[..50]).await;
        assert!(again.iter().all(Result::is_ok));
        assert_eq!(calls.load(Ordering::SeqCst), 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_poison_event_in_a_batch_fails_alone_and_its_neighbours_are_kept() {
        let sent = events(40);
        let poison = vec![sent[5].id, sent[30].id];
        let (db, inbox, _, _) = slow_inbox(poison.clone()).await;
        let outcomes = all_at_once(&inbox, &sent).await;
        for (envelope, outcome) in sent.iter().zip(&outcomes) {
            if poison.contains(&envelope.id) {
                assert!(
                    matches!(outcome, Err(HandlerError::Poison(_))),
                    "{outcome:?}"
                );
            } else {
                assert!(outcome.is_ok(), "{outcome:?}");
            }
        }
        // The poison events' inbox rows were rolled back with them: a later delivery fails again.
        assert_eq!(inbox_rows(&db).await, 38);
        let again = all_at_once(&inbox, &sent).await;
        assert_eq!(again.iter().filter(|o| o.is_err()).count(), 2);
        assert_eq!(inbox_rows(&db).await, 38);
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
