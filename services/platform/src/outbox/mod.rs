//! The transactional outbox: an event is written in the same database transaction as the change it
//! describes, and the relay publishes it afterwards. A crash at any point loses nothing.

mod entity;
mod relay;

use chrono::Utc;
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use valued_proto::events::Event;

pub use relay::{OutboxRelay, RelayHandle};

use crate::envelope::Envelope;

/// A service's way to publish: every event it enqueues is stamped with the service's name, a
/// follow-on event carries its cause's correlation, causation and trace, and committing the
/// transaction that wrote them wakes the relay, so they leave at once rather than at its next poll.
#[derive(Clone, Debug)]
pub struct Outbox {
    source: &'static str,
    relay: RelayHandle,
}

impl Outbox {
    pub fn new(source: &'static str, relay: RelayHandle) -> Self {
        Self { source, relay }
    }

    /// For a command-line tool writing to a service's database from another process: what it
    /// enqueues is published by the running service's relay at its next poll.
    pub fn detached(source: &'static str) -> Self {
        Self::new(source, RelayHandle::default())
    }

    /// Adds `event` (of `tenant`, the trust's ODS code, when it belongs to one) in `txn`; it starts
    /// a correlation and carries the current span's trace.
    pub async fn enqueue<E: Event>(
        &self,
        txn: &DatabaseTransaction,
        tenant: Option<&str>,
        event: &E,
    ) -> Result<(), DbErr> {
        insert(txn, &Envelope::new(self.source, tenant, event)).await
    }

    /// Adds `events` (of `tenant`) in `txn` in one statement, in order: for a transaction that
    /// writes many changes at once.
    pub async fn enqueue_all<E: Event>(
        &self,
        txn: &DatabaseTransaction,
        tenant: Option<&str>,
        events: &[E],
    ) -> Result<(), DbErr> {
        let envelopes: Vec<Envelope> = events
            .iter()
            .map(|event| Envelope::new(self.source, tenant, event))
            .collect();
        insert_all(txn, &envelopes).await
    }

    /// Adds `event` in `txn` as a consequence of `cause`: same correlation and tenant, `cause` as
    /// its causation, and `cause`'s trace when no span of ours is current.
    pub async fn enqueue_caused_by<E: Event>(
        &self,
        txn: &DatabaseTransaction,
        cause: &Envelope,
        event: &E,
    ) -> Result<(), DbErr> {
        let mut envelope = Envelope::caused_by(self.source, cause, event);
        if envelope.traceparent.is_none() {
            envelope.traceparent.clone_from(&cause.traceparent);
        }
        insert(txn, &envelope).await
    }

    /// Commits `txn` and wakes the relay for what it enqueued.
    pub async fn commit(&self, txn: DatabaseTransaction) -> Result<(), DbErr> {
        txn.commit().await?;
        self.relay.wake();
        Ok(())
    }

    /// Wakes the relay, for a transaction committed elsewhere (the inbox's).
    pub fn wake(&self) {
        self.relay.wake();
    }
}

/// Adds `envelope` to the outbox inside the caller's transaction. Services publish through their
/// [`Outbox`]; this is for envelopes made elsewhere (tests, tools).
pub async fn insert(txn: &impl ConnectionTrait, envelope: &Envelope) -> Result<(), DbErr> {
    insert_all(txn, std::slice::from_ref(envelope)).await
}

/// [`insert`] of many envelopes in one statement, in order.
async fn insert_all(txn: &impl ConnectionTrait, envelopes: &[Envelope]) -> Result<(), DbErr> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let created_at = Utc::now();
    let rows = envelopes
        .iter()
        .map(|envelope| {
            let headers = serde_json::to_value(envelope.headers())
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            Ok(entity::ActiveModel {
                id: ActiveValue::Set(envelope.id),
                event_type: ActiveValue::Set(envelope.event_type.clone()),
                payload: ActiveValue::Set(envelope.payload.clone()),
                headers: ActiveValue::Set(headers),
                created_at: ActiveValue::Set(created_at),
                published_at: ActiveValue::Set(None),
                attempts: ActiveValue::Set(0),
                last_error: ActiveValue::Set(None),
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    entity::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Rows not yet confirmed by the broker.
pub async fn pending_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .count(db)
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use sea_orm::{Database, QueryOrder, TransactionTrait};
    use sea_orm_migration::MigratorTrait;
    use valued_proto::events::v1::{BallotOpened, FinalistAnnounced};

    use super::*;

    #[tokio::test]
    async fn events_carry_their_service_and_cause_and_the_commit_wakes_the_relay() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        crate::migrations::Messaging::up(&db, None).await.unwrap();
        let relay = RelayHandle::default();
        let outbox = Outbox::new("voting", relay.clone());
        let mut cause = Envelope::new("nomination", Some("RJ1"), &FinalistAnnounced::default());
        cause.traceparent =
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());

        let txn = db.begin().await.unwrap();
        outbox
            .enqueue(&txn, Some("RRK"), &BallotOpened::default())
            .await
            .unwrap();
        outbox
            .enqueue_caused_by(&txn, &cause, &BallotOpened::default())
            .await
            .unwrap();
        outbox.commit(txn).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), relay.woken())
            .await
            .expect("the commit woke the relay");

        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let envelopes: Vec<Envelope> = rows
            .iter()
            .map(|r| relay::to_envelope(r).unwrap())
            .collect();
        let [fresh, follow_on] = envelopes.as_slice() else {
            panic!("two events, got {}", envelopes.len());
        };
        assert_eq!(fresh.source, "voting");
        assert_eq!(fresh.tenant.as_deref(), Some("RRK"));
        assert_eq!(
            fresh.correlation_id, fresh.id,
            "a fresh event starts a correlation"
        );
        assert_eq!(fresh.causation_id, None);
        assert_eq!(follow_on.source, "voting");
        assert_eq!(
            follow_on.tenant.as_deref(),
            Some("RJ1"),
            "the cause's tenant"
        );
        assert_eq!(follow_on.correlation_id, cause.correlation_id);
        assert_eq!(follow_on.causation_id, Some(cause.id));
        assert_eq!(
            follow_on.traceparent, cause.traceparent,
            "the trace survives the hop"
        );
    }

    /// Takes vote events, refuses everything else.
    struct BallotsOnly;

    #[async_trait::async_trait]
    impl crate::bus::EventBus for BallotsOnly {
        async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), crate::bus::BusError>> {
            envelopes
                .iter()
                .map(|e| {
                    if e.event_type == <BallotOpened as Event>::TYPE {
                        Ok(())
                    } else {
                        Err(crate::bus::BusError::Refused("not a ballot".into()))
                    }
                })
                .collect()
        }

        async fn subscribe(
            &self,
            _: crate::bus::Subscription,
            _: std::sync::Arc<dyn crate::bus::EventHandler>,
            _: crate::Shutdown,
        ) -> Result<tokio::task::JoinHandle<()>, crate::bus::BusError> {
            Ok(tokio::spawn(async {}))
        }

        fn health(&self) -> crate::bus::BusHealth {
            crate::bus::BusHealth::default()
        }
    }

    #[tokio::test]
    async fn a_published_event_leaves_no_row_and_a_refused_one_stays() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        crate::migrations::Messaging::up(&db, None).await.unwrap();
        let outbox = Outbox::new("voting", RelayHandle::default());
        let txn = db.begin().await.unwrap();
        outbox
            .enqueue(
                &txn,
                None,
                &BallotOpened {
                    ballot_id: "a secret only the event should carry".into(),
                    ..BallotOpened::default()
                },
            )
            .await
            .unwrap();
        outbox
            .enqueue(&txn, None, &FinalistAnnounced::default())
            .await
            .unwrap();
        outbox.commit(txn).await.unwrap();

        let relay = OutboxRelay::new(
            "test",
            db.clone(),
            std::sync::Arc::new(BallotsOnly),
            crate::RelaySettings::default(),
        );
        assert!(relay.publish_round().await.is_err(), "one was refused");
        let left = entity::Entity::find().all(&db).await.unwrap();
        assert_eq!(left.len(), 1, "the published event's row is gone");
        assert_eq!(left[0].event_type, <FinalistAnnounced as Event>::TYPE);
        assert_eq!(left[0].attempts, 1);
        assert!(
            left[0]
                .last_error
                .as_deref()
                .unwrap_or("")
                .contains("not a ballot")
        );
        assert_eq!(pending_count(&db).await.unwrap(), 1);
    }
}
