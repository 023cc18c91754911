//! The relay: takes unpublished outbox rows oldest first (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! replicas share the work), publishes them with confirms pipelined, and deletes a row only after the
//! broker's ack: an event's payload can carry a link token or personal details, which then exist only
//! where the event went. Failed rows stay, with their attempts and last error, and failed rounds back
//! off exponentially and retry forever.

use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::entity::{self, Column, Entity};
use crate::bus::EventBus;
use crate::envelope::{Envelope, EnvelopeHeaders};
use crate::settings::RelaySettings;
use crate::shutdown::Shutdown;

pub struct OutboxRelay {
    /// The service whose outbox this is (the `service` of its age metric).
    service: &'static str,
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    settings: RelaySettings,
    wake: Arc<Notify>,
}

/// Wakes the relay right after a commit that added outbox rows, instead of waiting for its poll.
#[derive(Clone, Debug, Default)]
pub struct RelayHandle {
    wake: Arc<Notify>,
}

impl RelayHandle {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves once the relay has been woken (tests).
    #[cfg(test)]
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }
}

impl OutboxRelay {
    pub fn new(
        service: &'static str,
        db: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        settings: RelaySettings,
    ) -> Self {
        Self {
            service,
            db,
            bus,
            settings,
            wake: Arc::default(),
        }
    }

    pub fn handle(&self) -> RelayHandle {
        RelayHandle {
            wake: self.wake.clone(),
        }
    }

    /// Runs until `shutdown`; the round in progress then finishes, so nothing confirmed is left unmarked.
    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut failures = 0u32;
            while !shutdown.is_triggered() {
                let wait = match self.publish_round().await {
                    Ok(published) if published as u64 >= self.settings.batch_size => {
                        failures = 0;
                        continue;
                    }
                    Ok(_) => {
                        failures = 0;
                        self.settings.poll_interval()
                    }
                    Err(error) => {
                        failures += 1;
                        let delay = crate::bus::retry_delay(failures, self.settings.max_backoff());
                        tracing::warn!(error = %format!("{error:#}"), ?delay, "outbox relay round failed; backing off");
                        delay
                    }
                };
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = self.wake.notified(), if failures == 0 => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            tracing::debug!("outbox relay stopped");
        })
    }

    /// One round; returns how many rows were published (and so deleted).
    ///
    /// On PostgreSQL the rows stay locked (`FOR UPDATE SKIP LOCKED`) while they are published, so
    /// relay replicas never publish the same row. SQLite has one relay per database (the embedded
    /// default) and one writer at a time: there the rows are read, published, then marked in a short
    /// write, so a long publish never holds the write lock.
    pub async fn publish_round(&self) -> anyhow::Result<usize> {
        let query = Entity::find()
            .filter(Column::PublishedAt.is_null())
            .order_by_asc(Column::Id)
            .limit(self.settings.batch_size);
        if crate::db::is_postgres(&self.db) {
            let txn = self.db.begin().await?;
            let rows = query
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .all(&txn)
                .await?;
            self.observe_backlog(&rows);
            let outcome = self.publish_and_mark(&txn, &rows).await;
            txn.commit().await?;
            outcome
        } else {
            let rows = query.all(&self.db).await?;
            self.observe_backlog(&rows);
            self.publish_and_mark(&self.db, &rows).await
        }
    }

    /// Exports the age of the oldest row this round took (rows come oldest first; none: zero),
    /// so an outbox that stops draining shows before anyone misses an email.
    fn observe_backlog(&self, rows: &[entity::Model]) {
        let age = rows.first().map_or(std::time::Duration::ZERO, |oldest| {
            (chrono::Utc::now() - oldest.created_at)
                .to_std()
                .unwrap_or_default()
        });
        crate::metrics::outbox_oldest_age(self.service, age);
    }

    async fn publish_and_mark(
        &self,
        db: &impl ConnectionTrait,
        rows: &[entity::Model],
    ) -> anyhow::Result<usize> {
        if rows.is_empty() {
            return Ok(0);
        }
        let envelopes = rows
            .iter()
            .map(to_envelope)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let results = self.bus.publish(&envelopes).await;

        let mut published = Vec::new();
        let mut first_error = None;
        for (row, result) in rows.iter().zip(results) {
            match result {
                Ok(()) => published.push(row.id),
                Err(error) => {
                    let message = error.to_string();
                    Entity::update_many()
                        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
                        .col_expr(Column::LastError, Expr::value(message.clone()))
                        .filter(Column::Id.eq(row.id))
                        .exec(db)
                        .await?;
                    first_error.get_or_insert(message);
                }
            }
        }
        if !published.is_empty() {
            Entity::delete_many()
                .filter(Column::Id.is_in(published.clone()))
                .exec(db)
                .await?;
        }
        match first_error {
            Some(error) => anyhow::bail!(
                "{} of {} events not confirmed: {error}",
                rows.len() - published.len(),
                rows.len()
            ),
            None => Ok(published.len()),
        }
    }
}

pub(super) fn to_envelope(row: &entity::Model) -> anyhow::Result<Envelope> {
    let headers: EnvelopeHeaders = serde_json::from_value(row.headers.clone())?;
    Ok(Envelope::from_parts(
        row.id,
        row.event_type.clone(),
        headers,
        row.payload.clone(),
    ))
}
