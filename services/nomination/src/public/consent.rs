//! A nominee's consent, asked for through the link in their thank-you and changeable through it.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::ConsentChanged;

use crate::db::entities::{campaign, consent_record, nomination, nominee};
use crate::domain::{Consent, hash_token};
use crate::error::{Error, Result};

pub struct ConsentRequest {
    pub nominee: nominee::Model,
    pub campaign: campaign::Model,
    pub confirmed_nominations: u64,
}

pub async fn find(db: &impl ConnectionTrait, token: &str) -> Result<ConsentRequest> {
    let not_found = || Error::NotFound("consent link".into());
    let nominee = nominee::Entity::find()
        .filter(nominee::Column::ConsentTokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let campaign = campaign::Entity::find_by_id(nominee.campaign_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let confirmed_nominations = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee.id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?;
    Ok(ConsentRequest {
        nominee,
        campaign,
        confirmed_nominations,
    })
}

/// Records the nominee's answers, in the nominee's current consent and as a dated entry in their
/// consent history, and announces them (`nominee.consent_changed.v1`) in the same transaction; they
/// may change them later through the same link.
pub async fn record(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    token: &str,
    consent: Consent,
) -> Result<()> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let updated = nominee::Entity::update_many()
        .col_expr(
            nominee::Column::ListedPublicly,
            Expr::value(consent.listed_publicly),
        )
        .col_expr(
            nominee::Column::StoryPublished,
            Expr::value(consent.story_published),
        )
        .col_expr(
            nominee::Column::SharedWithMp,
            Expr::value(consent.shared_with_mp),
        )
        .col_expr(nominee::Column::ConsentAnsweredAt, Expr::value(now))
        .filter(nominee::Column::ConsentTokenHash.eq(hash_token(token)))
        .exec(&txn)
        .await?;
    let nominee = match updated.rows_affected {
        0 => None,
        _ => {
            nominee::Entity::find()
                .filter(nominee::Column::ConsentTokenHash.eq(hash_token(token)))
                .one(&txn)
                .await?
        }
    }
    .ok_or_else(|| Error::NotFound("consent link".into()))?;
    consent_record::Entity::insert(consent_record::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        nominee_id: ActiveValue::Set(nominee.id),
        listed_publicly: ActiveValue::Set(consent.listed_publicly),
        story_published: ActiveValue::Set(consent.story_published),
        shared_with_mp: ActiveValue::Set(consent.shared_with_mp),
        recorded_at: ActiveValue::Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let changed = ConsentChanged {
        nominee_id: nominee.id.to_string(),
        campaign_id: nominee.campaign_id.to_string(),
        listed_publicly: consent.listed_publicly,
        story_published: consent.story_published,
        shared_with_mp: consent.shared_with_mp,
        changed_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: 0,
        }),
    };
    outbox
        .enqueue(&txn, Some(&nominee.trust_code), &changed)
        .await?;
    outbox.commit(txn).await?;
    Ok(())
}
