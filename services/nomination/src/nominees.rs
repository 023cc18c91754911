//! Nominees, shared by the public and signed-in flows: the one a nomination names (found by name
//! and role, or new) and the thank-you that asks them for consent, through a link bound to an
//! address of theirs.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;
use valued_platform::db::same_email;
use valued_platform::domain::{EmailAddress, PersonName, match_key};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::NomineeThanked;

use crate::db::entities::{campaign, nomination, nominee, nominee_address, trust};
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
    let role_key = match_key(job_title);
    // One statement: a nominee already there is "updated" to the key it has, which returns it
    // (DO NOTHING returns nothing for a row that was there).
    let nominee = nominee::Entity::insert(new_nominee(campaign_id, trust_code, name, role_key))
        .on_conflict(
            OnConflict::columns([
                nominee::Column::CampaignId,
                nominee::Column::TrustCode,
                nominee::Column::NameKey,
                nominee::Column::RoleKey,
            ])
            .update_column(nominee::Column::RoleKey)
            .to_owned(),
        )
        .exec_with_returning(txn)
        .await?;
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
        claim_token_hash: ActiveValue::Set(None),
        claim_expires_at: ActiveValue::Set(None),
        email: ActiveValue::Set(String::new()),
        listed_publicly: ActiveValue::Set(false),
        story_published: ActiveValue::Set(false),
        shared_with_mp: ActiveValue::Set(false),
        consent_answered_at: ActiveValue::Set(None),
        thanked_at: ActiveValue::Set(None),
    }
}

/// The nominees `email` (normalised) is known to be: by the work address nominators gave, or an
/// address they verified by answering its consent link. An address someone only typed for them,
/// never answered from, does not make its owner the nominee.
pub async fn known_by(
    db: &impl ConnectionTrait,
    email: &str,
) -> std::result::Result<Vec<nominee::Model>, sea_orm::DbErr> {
    let verified = Query::select()
        .column(nominee_address::Column::NomineeId)
        .from(nominee_address::Entity)
        .and_where(same_email(nominee_address::Column::Email, email))
        .and_where(Expr::col(nominee_address::Column::VerifiedAt).is_not_null())
        .to_owned();
    nominee::Entity::find()
        .filter(
            Condition::any()
                .add(same_email(nominee::Column::Email, email))
                .add(nominee::Column::Id.in_subquery(verified)),
        )
        .all(db)
        .await
}

/// How long a claim link, and a consent link nobody has answered, keep working: as long as an
/// unconfirmed nomination's confirm link is kept.
pub const UNVERIFIED_LINK_DAYS: i64 = 30;

/// Thanks the nominee once (however many colleagues nominate them) and asks for their consent: at
/// their work address when a nominator gave one, with a consent link bound to that address; else
/// through the trust's contact as their manager, with a claim link where the nominee gives an
/// address of their own. Whoever passes on a thank-you cannot consent for the nominee.
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
    let claimed = nominee::Entity::update_many()
        .col_expr(nominee::Column::ThankedAt, Expr::value(Utc::now()))
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
    let work_address = EmailAddress::parse("nominee_email", &nomination.nominee_email).ok();
    send_thanks(
        txn,
        outbox,
        &nominee,
        nomination,
        campaign,
        trust,
        work_address.as_ref(),
    )
    .await
}

/// Thanks `nominee` (already thanked) again, through their trust's contact with a claim link: the
/// only address a nominator gave for them turned out not to be theirs.
pub async fn thank_through_manager(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    nominee: &nominee::Model,
) -> Result<()> {
    let not_found = |what: &str| Error::NotFound(format!("{what} of nominee {}", nominee.id));
    let campaign = campaign::Entity::find_by_id(nominee.campaign_id)
        .one(txn)
        .await?
        .ok_or_else(|| not_found("campaign"))?;
    let trust = trust::Entity::find_by_id(nominee.trust_code.clone())
        .one(txn)
        .await?
        .ok_or_else(|| not_found("trust"))?;
    let first = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee.id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .order_by_asc(nomination::Column::ConfirmedAt)
        .one(txn)
        .await?
        .ok_or_else(|| not_found("confirmed nomination"))?;
    send_thanks(txn, outbox, nominee, &first, &campaign, &trust, None).await
}

/// The thank-you itself (`nominee.thanked.v1`): to `work_address` with a consent link bound to it,
/// or, without one, to the trust's contact with a claim link.
async fn send_thanks(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    nominee: &nominee::Model,
    nomination: &nomination::Model,
    campaign: &campaign::Model,
    trust: &trust::Model,
    work_address: Option<&EmailAddress>,
) -> Result<()> {
    let expires_at = Utc::now() + chrono::Duration::days(UNVERIFIED_LINK_DAYS);
    let (consent_token, claim_token) = match work_address {
        Some(address) => (
            consent_link(txn, nominee.id, address, expires_at).await?,
            String::new(),
        ),
        None => (
            String::new(),
            claim_link(txn, nominee.id, expires_at).await?,
        ),
    };
    let confirmed = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee.id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .count(txn)
        .await?;
    let learning_routes = crate::admin::learning_routes::links_fitting(
        txn,
        campaign,
        trust,
        nomination.category_id,
        &nomination.staff_group,
    )
    .await?;
    let event = NomineeThanked {
        nominee_id: nominee.id.to_string(),
        nomination_id: nomination.id.to_string(),
        campaign_name: campaign.name.clone(),
        trust_name: trust.name.clone(),
        nominee_name: nominee.name.clone(),
        via_manager: work_address.is_none(),
        recipient_email: work_address
            .map(ToString::to_string)
            .unwrap_or_else(|| trust.admin_email.clone()),
        consent_token,
        nomination_count: confirmed,
        claim_token,
        learning_routes,
    };
    outbox.enqueue(txn, Some(&trust.code), &event).await?;
    Ok(())
}

/// A new claim link for `nominee_id`, working until `expires_at`: its token. It replaces any
/// earlier one.
async fn claim_link(
    txn: &impl ConnectionTrait,
    nominee_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<String> {
    let (token, hash) = new_link_token();
    nominee::Entity::update_many()
        .col_expr(nominee::Column::ClaimTokenHash, Expr::value(hash))
        .col_expr(nominee::Column::ClaimExpiresAt, Expr::value(expires_at))
        .filter(nominee::Column::Id.eq(nominee_id))
        .exec(txn)
        .await?;
    Ok(token)
}

/// A new consent link for `nominee_id`, bound to `address`, working until `expires_at` unless
/// answered: its token. A new link to an address that already had one replaces it (the address
/// stays verified if it was).
pub async fn consent_link(
    txn: &impl ConnectionTrait,
    nominee_id: Uuid,
    address: &EmailAddress,
    expires_at: DateTime<Utc>,
) -> Result<String> {
    let (token, hash) = new_link_token();
    nominee_address::Entity::insert(nominee_address::ActiveModel {
        nominee_id: ActiveValue::Set(nominee_id),
        email: ActiveValue::Set(address.normalised()),
        token_hash: ActiveValue::Set(hash),
        created_at: ActiveValue::Set(Utc::now()),
        expires_at: ActiveValue::Set(expires_at),
        verified_at: ActiveValue::Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            nominee_address::Column::NomineeId,
            nominee_address::Column::Email,
        ])
        .update_columns([
            nominee_address::Column::TokenHash,
            nominee_address::Column::CreatedAt,
            nominee_address::Column::ExpiresAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(token)
}
