//! The work-email domains each trust's staff have, for staff-only votes that take them. The
//! trust's admins set them in the nomination service, which announces each change
//! (`trust.settings_changed.v1`, with the trust's region); this service keeps its own copy,
//! written by its own subscription ([`TrustDomains`], consumer [`CONSUMER`]) in the event's inbox
//! transaction. Each copy carries when the settings changed, and an older one arriving after a
//! newer one changes nothing.
//!
//! A campaign's trusts are those its scope covers, as its ballots keep it
//! ([`crate::domain::CampaignScope`]): a trust campaign's trust, a region campaign's trusts (by the
//! region each trust's latest settings named), every trust for a national campaign.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use valued_platform::domain::WorkDomain;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::{Envelope, HandlerError, Subscription};
use valued_proto::events::Event;
use valued_proto::events::v1::TrustSettingsChanged;

use crate::db::entities::ballot;
use crate::domain::CampaignScope;

/// The consumer's name: the queue `<prefix>.voting-trust-domains`, and its inbox rows.
pub const CONSUMER: &str = "voting-trust-domains";

/// The events the copy is kept from.
pub fn subscription() -> Subscription {
    Subscription::new(CONSUMER, &[TrustSettingsChanged::TYPE])
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// A trust's work-email domains and region, as last announced.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "trust_work_domains")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trust_code: String,
        pub region_code: String,
        /// Lower-case domains, one per line.
        pub domains: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Keeps the copy of each trust's domains (wrap it in the platform's `Idempotent` inbox).
pub struct TrustDomains;

#[async_trait]
impl TransactionalHandler for TrustDomains {
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
    if code.is_empty() {
        tracing::warn!("trust settings without a trust code: ignored");
        return Ok(());
    }
    // Parsed as the nomination service parses them; anything it would not have sent is dropped.
    let domains: Vec<String> = changed
        .work_email_domains
        .iter()
        .filter_map(|typed| WorkDomain::parse("domain", typed).ok())
        .map(|domain| domain.as_str().to_owned())
        .collect();
    let at = time_of(changed);
    let row = entity::ActiveModel {
        trust_code: ActiveValue::Set(code.clone()),
        region_code: ActiveValue::Set(changed.region_code.trim().to_ascii_uppercase()),
        domains: ActiveValue::Set(domains.join("\n")),
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

/// The domains the trusts taking part in `campaign_id`'s vote have set, sorted, each once.
pub async fn of_campaign(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<WorkDomain>, DbErr> {
    let Some(ballot) = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id.trim()))
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let scope = CampaignScope::parse(&ballot.campaign_scope, &ballot.campaign_scope_code);
    let query = entity::Entity::find();
    let query = match &scope {
        CampaignScope::Trust(code) => {
            query.filter(entity::Column::TrustCode.eq(code.to_ascii_uppercase()))
        }
        CampaignScope::Region(code) => {
            query.filter(entity::Column::RegionCode.eq(code.to_ascii_uppercase()))
        }
        CampaignScope::National => query,
    };
    let mut domains: Vec<String> = query
        .all(db)
        .await?
        .iter()
        .flat_map(|trust| trust.domains.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter(|domain| !domain.is_empty())
        .collect();
    domains.sort();
    domains.dedup();
    Ok(domains.iter().map(|d| WorkDomain::from_stored(d)).collect())
}
