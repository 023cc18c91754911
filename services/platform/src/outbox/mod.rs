//! The transactional outbox: an event is written in the same database transaction as the change it
//! describes, and the relay publishes it afterwards. A crash at any point loses nothing.

mod entity;
mod relay;

use chrono::Utc;
use sea_orm::{ActiveValue, ConnectionTrait, DbErr, EntityTrait};

pub use relay::{OutboxRelay, RelayHandle};

use crate::envelope::Envelope;

/// Adds `envelope` to the outbox inside the caller's transaction.
pub async fn enqueue(txn: &impl ConnectionTrait, envelope: &Envelope) -> Result<(), DbErr> {
    let headers =
        serde_json::to_value(envelope.headers()).map_err(|e| DbErr::Custom(e.to_string()))?;
    entity::Entity::insert(entity::ActiveModel {
        id: ActiveValue::Set(envelope.id),
        event_type: ActiveValue::Set(envelope.event_type.clone()),
        payload: ActiveValue::Set(envelope.payload.clone()),
        headers: ActiveValue::Set(headers),
        created_at: ActiveValue::Set(Utc::now()),
        published_at: ActiveValue::Set(None),
        attempts: ActiveValue::Set(0),
        last_error: ActiveValue::Set(None),
    })
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
