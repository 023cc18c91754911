//! How each trust's emails present themselves: the From name (on the service's own address, so
//! SPF, DKIM and DMARC still align) and where replies go. The trust's admins set them in the
//! nomination service, which announces each change (`trust.settings_changed.v1`); this service
//! keeps its own copy, written by its own subscription ([`TrustSenders`], consumer [`CONSUMER`])
//! in the event's inbox transaction. Each copy carries when the settings changed, and an older one
//! arriving after a newer one changes nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use valued_platform::inbox::TransactionalHandler;
use valued_platform::{Envelope, HandlerError};
use valued_proto::events::Event;
use valued_proto::events::v1::TrustSettingsChanged;

/// The consumer's name: the queue `<prefix>.notification-trust-senders`, and its inbox rows.
pub const CONSUMER: &str = "notification-trust-senders";

/// The event types the copy is kept from.
pub const EVENT_TYPES: &[&str] = &[TrustSettingsChanged::TYPE];

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// A trust's sender name and reply-to, as last announced.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "trust_sender")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trust_code: String,
        pub sender_name: String,
        pub reply_to: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Keeps the copy of each trust's sender (wrap it in the platform's `Idempotent` inbox).
pub struct TrustSenders;

#[async_trait]
impl TransactionalHandler for TrustSenders {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        if envelope.event_type != TrustSettingsChanged::TYPE {
            return Ok(());
        }
        let changed: TrustSettingsChanged = envelope
            .decode()
            .map_err(|e| HandlerError::Poison(e.into()))?;
        keep(txn, &changed)
            .await
            .map_err(|e| HandlerError::Retry(e.into()))
    }
}

fn time_of(changed: &TrustSettingsChanged) -> DateTime<Utc> {
    changed
        .changed_at
        .as_ref()
        .and_then(|at| {
            DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or_default())
        })
        .unwrap_or(DateTime::UNIX_EPOCH)
}

async fn keep(txn: &DatabaseTransaction, changed: &TrustSettingsChanged) -> Result<(), DbErr> {
    let code = changed.trust_code.trim().to_ascii_uppercase();
    let at = time_of(changed);
    let row = entity::ActiveModel {
        trust_code: ActiveValue::Set(code.clone()),
        sender_name: ActiveValue::Set(changed.sender_name.clone()),
        reply_to: ActiveValue::Set(changed.reply_to.clone()),
        changed_at: ActiveValue::Set(at),
    };
    match entity::Entity::find_by_id(code).one(txn).await? {
        None => {
            entity::Entity::insert(row)
                .exec_without_returning(txn)
                .await?;
        }
        Some(kept) if kept.changed_at < at => {
            entity::Entity::update(row).exec(txn).await?;
        }
        // The same change again, or an older one overtaken by a newer.
        Some(_) => {}
    }
    Ok(())
}

/// The sender of `tenant`'s emails, if its trust has set one.
pub async fn of(
    db: &impl ConnectionTrait,
    tenant: Option<&str>,
) -> Result<Option<entity::Model>, DbErr> {
    match tenant {
        Some(tenant) if !tenant.is_empty() => {
            entity::Entity::find_by_id(code(tenant)).one(db).await
        }
        _ => Ok(None),
    }
}

/// The senders of every trust among `tenants` that has set one, by trust code ([`code`]), in one
/// query.
pub async fn of_all<'t>(
    db: &impl ConnectionTrait,
    tenants: impl Iterator<Item = &'t str>,
) -> Result<std::collections::HashMap<String, entity::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let codes: std::collections::BTreeSet<String> =
        tenants.map(code).filter(|code| !code.is_empty()).collect();
    if codes.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(entity::Entity::find()
        .filter(entity::Column::TrustCode.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.trust_code.clone(), row))
        .collect())
}

/// A trust code as its sender is kept by: trimmed, upper case.
pub fn code(tenant: &str) -> String {
    tenant.trim().to_ascii_uppercase()
}
