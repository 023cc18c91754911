//! Nominees, shared by the public and signed-in flows: the one a nomination names (found by name
//! and role, or new) and the thank-you that asks them for consent.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, PersonName, match_key};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::NomineeThanked;

use crate::db::entities::{campaign, nomination, nominee, trust};
use crate::domain::new_link_token;
use crate::error::{Error, Result};

/// The nominee this nomination names: the one colleagues already nominated with the same trust,
/// name and role (compared by `match_key`), or a new one.
pub async fn nominee_for(
    txn: &impl ConnectionTrait,
    campaign_id: Uuid,
    trust_code: &str,
    name: &PersonName,
    job_title: &str,
) -> Result<Uuid> {
    let name_key = name.match_key();
    let role_key = match_key(job_title);
    nominee::Entity::insert(new_nominee(campaign_id, trust_code, name, role_key.clone()))
        .on_conflict_do_nothing_on([
            nominee::Column::CampaignId,
            nominee::Column::TrustCode,
            nominee::Column::NameKey,
            nominee::Column::RoleKey,
        ])
        .exec_without_returning(txn)
        .await?;
    let nominee = nominee::Entity::find()
        .filter(nominee::Column::CampaignId.eq(campaign_id))
        .filter(nominee::Column::TrustCode.eq(trust_code))
        .filter(nominee::Column::NameKey.eq(name_key))
        .filter(nominee::Column::RoleKey.eq(role_key))
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::Database(sea_orm::DbErr::RecordNotFound(
                "nominee just written".into(),
            ))
        })?;
    Ok(nominee.id)
}

/// A nominee not yet thanked, with no consent given.
pub fn new_nominee(
    campaign_id: Uuid,
    trust_code: &str,
    name: &PersonName,
    role_key: String,
) -> nominee::ActiveModel {
    nominee::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(campaign_id),
        trust_code: ActiveValue::Set(trust_code.to_owned()),
        name: ActiveValue::Set(name.to_string()),
        name_key: ActiveValue::Set(name.match_key()),
        role_key: ActiveValue::Set(role_key),
        created_at: ActiveValue::Set(Utc::now()),
        consent_token_hash: ActiveValue::Set(None),
        email: ActiveValue::Set(String::new()),
        listed_publicly: ActiveValue::Set(false),
        story_published: ActiveValue::Set(false),
        shared_with_mp: ActiveValue::Set(false),
        consent_answered_at: ActiveValue::Set(None),
        thanked_at: ActiveValue::Set(None),
    }
}

/// Thanks the nominee once (however many colleagues nominate them) and asks for their consent: at
/// their work address when a nominator gave one, else through the trust's contact as their manager.
pub async fn thank_nominee(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    nomination: &nomination::Model,
    campaign: &campaign::Model,
    trust: &trust::Model,
) -> Result<()> {
    let Some(nominee_id) = nomination.nominee_id else {
        // "I don't know their name": thanked once their manager identifies them.
        return Ok(());
    };
    let (token, hash) = new_link_token();
    let claimed = nominee::Entity::update_many()
        .col_expr(nominee::Column::ThankedAt, Expr::value(Utc::now()))
        .col_expr(nominee::Column::ConsentTokenHash, Expr::value(hash))
        .col_expr(
            nominee::Column::Email,
            Expr::value(nomination.nominee_email.clone()),
        )
        .filter(nominee::Column::Id.eq(nominee_id))
        .filter(nominee::Column::ThankedAt.is_null())
        .exec(txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(());
    }
    let nominee = nominee::Entity::find_by_id(nominee_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("nominee {nominee_id}")))?;
    let confirmed = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee_id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .count(txn)
        .await?;
    let work_address = EmailAddress::parse("nominee_email", &nomination.nominee_email).ok();
    let event = NomineeThanked {
        nominee_id: nominee_id.to_string(),
        nomination_id: nomination.id.to_string(),
        campaign_name: campaign.name.clone(),
        trust_name: trust.name.clone(),
        nominee_name: nominee.name,
        via_manager: work_address.is_none(),
        recipient_email: work_address
            .map(|a| a.to_string())
            .unwrap_or_else(|| trust.admin_email.clone()),
        consent_token: token,
        nomination_count: confirmed,
    };
    outbox.enqueue(txn, Some(&trust.code), &event).await?;
    Ok(())
}
