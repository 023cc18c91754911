//! The moderation queue of each trust, decisions on nominations, and the audit log they write.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::PersonName;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::MoreInfoRequested;

use super::confirmation::{display_name, thank_nominee};
use super::entities::{audit_log, campaign, campaign_trust, nomination, nominee, trust};
use super::queries::{new_nominee, nominee_for};
use crate::auth::Principal;
use crate::domain::{Decision, Status};
use crate::error::{Error, Result};

/// A nomination with the trust it belongs to, loaded for an admin action.
pub(crate) async fn nomination_and_trust(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<(nomination::Model, trust::Model)> {
    let nomination = super::queries::nomination(db, id).await?;
    let trust = trust::Entity::find_by_id(nomination.trust_code.clone())
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("trust {}", nomination.trust_code)))?;
    Ok((nomination, trust))
}

pub(crate) async fn campaign(db: &impl ConnectionTrait, id: &str) -> Result<campaign::Model> {
    let not_found = || Error::NotFound(format!("campaign {id}"));
    let id: Uuid = id.trim().parse().map_err(|_| not_found())?;
    campaign::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// The campaign's trusts that the caller administers; `only` narrows to one, which must be theirs.
pub(crate) async fn administered_trusts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign: &campaign::Model,
    only: &str,
) -> Result<Vec<trust::Model>> {
    let codes: Vec<String> = campaign_trust::Entity::find()
        .filter(campaign_trust::Column::CampaignId.eq(campaign.id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.trust_code)
        .collect();
    let trusts: Vec<trust::Model> = trust::Entity::find()
        .filter(trust::Column::Code.is_in(codes))
        .order_by_asc(trust::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .filter(|t| principal.administers_trust(t))
        .collect();
    let only = only.trim();
    if only.is_empty() {
        principal.require(!trusts.is_empty(), "see this campaign's nominations")?;
        return Ok(trusts);
    }
    let one: Vec<trust::Model> = trusts
        .into_iter()
        .filter(|t| t.code.eq_ignore_ascii_case(only))
        .collect();
    principal.require(!one.is_empty(), &format!("see nominations for {only}"))?;
    Ok(one)
}

/// Confirmed nominations awaiting a decision in the caller's trusts, oldest first.
pub async fn queue(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &str,
    trust_code: &str,
) -> Result<Vec<nomination::Model>> {
    let campaign = campaign(db, campaign_id).await?;
    let trusts = administered_trusts(db, principal, &campaign, trust_code).await?;
    Ok(nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::TrustCode.is_in(trusts.into_iter().map(|t| t.code)))
        .filter(nomination::Column::Status.is_in(Status::AWAITING_DECISION.map(Status::slug)))
        .order_by_asc(nomination::Column::ConfirmedAt)
        .all(db)
        .await?)
}

/// Every nomination of a campaign in the caller's trusts (for export), unconfirmed ones included.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &str,
) -> Result<Vec<nomination::Model>> {
    let campaign = campaign(db, campaign_id).await?;
    let trusts = administered_trusts(db, principal, &campaign, "").await?;
    Ok(nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::TrustCode.is_in(trusts.into_iter().map(|t| t.code)))
        .order_by_asc(nomination::Column::SubmittedAt)
        .all(db)
        .await?)
}

/// Approves, rejects or asks the nominator for more, and records who did it.
pub async fn decide(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    nomination_id: &str,
    decision: &Decision,
) -> Result<nomination::Model> {
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    principal.require(
        principal.administers_trust(&trust),
        &format!("moderate nominations for {}", trust.name),
    )?;
    if found.status == Status::Unconfirmed.slug() {
        return Err(Error::Closed(
            "The nominator has not confirmed their email yet".into(),
        ));
    }
    let txn = db.begin().await?;
    nomination::Entity::update_many()
        .col_expr(
            nomination::Column::Status,
            Expr::value(decision.status().slug()),
        )
        .col_expr(
            nomination::Column::ModerationReason,
            Expr::value(decision.reason()),
        )
        .filter(nomination::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    record(
        &txn,
        principal,
        decision.action(),
        Some(found.id),
        &trust.code,
        decision.reason(),
    )
    .await?;
    if let Decision::RequestInfo { question } = decision {
        let campaign = campaign(&txn, &found.campaign_id.to_string()).await?;
        let event = MoreInfoRequested {
            nomination_id: found.id.to_string(),
            campaign_name: campaign.name,
            trust_name: trust.name.clone(),
            nominee_name: display_name(&found),
            nominator_name: found.nominator_name.clone(),
            nominator_email: found.nominator_email.clone(),
            question: question.clone(),
            reply_to: trust.admin_email.clone(),
        };
        outbox.enqueue(&txn, Some(&trust.code), &event).await?;
    }
    outbox.commit(txn).await?;
    super::queries::nomination(db, nomination_id).await
}

/// Confirms a nominee match, splits a wrong one off to a nominee of its own, or names someone the
/// nominator could only describe (who is then thanked and asked for consent).
pub async fn review_match(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    nomination_id: &str,
    same_person: bool,
    name: &str,
    job_title: &str,
) -> Result<nomination::Model> {
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    principal.require(
        principal.administers_trust(&trust),
        &format!("review nominees for {}", trust.name),
    )?;
    let txn = db.begin().await?;
    let (action, detail) = if !name.trim().is_empty() {
        let person = PersonName::parse("nominee_name", "their full name", name)
            .map_err(|e| Error::Invalid(vec![e]))?;
        let job_title = if job_title.trim().is_empty() {
            found.nominee_job_title.clone()
        } else {
            job_title.trim().to_owned()
        };
        let nominee_id =
            nominee_for(&txn, found.campaign_id, &trust.code, &person, &job_title).await?;
        link(
            &txn,
            &found,
            nominee_id,
            person.as_str(),
            &job_title,
            principal,
        )
        .await?;
        ("identify_nominee", format!("named {person}"))
    } else if same_person {
        link(
            &txn,
            &found,
            found.nominee_id.unwrap_or_default(),
            &found.nominee_name,
            &found.nominee_job_title,
            principal,
        )
        .await?;
        ("confirm_match", String::new())
    } else {
        let person = PersonName::parse("nominee_name", "their full name", &found.nominee_name)
            .map_err(|e| Error::Invalid(vec![e]))?;
        // A different person with the same name and role: a nominee of their own, kept apart by
        // the nomination's id in the role key.
        let own = Uuid::now_v7();
        let new = nominee::ActiveModel {
            id: ActiveValue::Set(own),
            ..new_nominee(
                found.campaign_id,
                &trust.code,
                &person,
                format!("{} #{}", found.nominee_job_title, found.id),
            )
        };
        nominee::Entity::insert(new)
            .exec_without_returning(&txn)
            .await?;
        link(
            &txn,
            &found,
            own,
            &found.nominee_name,
            &found.nominee_job_title,
            principal,
        )
        .await?;
        ("split_match", format!("moved to nominee {own}"))
    };
    record(
        &txn,
        principal,
        action,
        Some(found.id),
        &trust.code,
        &detail,
    )
    .await?;
    if found.confirmed_at.is_some() {
        let updated = super::queries::nomination(&txn, nomination_id).await?;
        let campaign = campaign(&txn, &found.campaign_id.to_string()).await?;
        thank_nominee(&txn, outbox, &updated, &campaign, &trust).await?;
    }
    outbox.commit(txn).await?;
    super::queries::nomination(db, nomination_id).await
}

async fn link(
    txn: &impl ConnectionTrait,
    found: &nomination::Model,
    nominee_id: Uuid,
    name: &str,
    job_title: &str,
    principal: &Principal,
) -> Result<()> {
    nomination::Entity::update_many()
        .col_expr(nomination::Column::NomineeId, Expr::value(nominee_id))
        .col_expr(nomination::Column::NomineeName, Expr::value(name))
        .col_expr(nomination::Column::NomineeJobTitle, Expr::value(job_title))
        .col_expr(
            nomination::Column::MatchReviewedBy,
            Expr::value(principal.email.clone()),
        )
        .filter(nomination::Column::Id.eq(found.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes one audit entry in the caller's transaction.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    nomination_id: Option<Uuid>,
    trust_code: &str,
    detail: &str,
) -> Result<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        at: ActiveValue::Set(Utc::now()),
        actor: ActiveValue::Set(principal.email.clone()),
        action: ActiveValue::Set(action.to_owned()),
        nomination_id: ActiveValue::Set(nomination_id),
        trust_code: ActiveValue::Set(trust_code.to_owned()),
        detail: ActiveValue::Set(detail.to_owned()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// One trust's audit log, newest first.
pub async fn audit_log(
    db: &impl ConnectionTrait,
    principal: &Principal,
    trust_code: &str,
) -> Result<Vec<audit_log::Model>> {
    let trust = trust::Entity::find_by_id(trust_code.trim().to_uppercase())
        .one(db)
        .await?;
    let allowed = trust
        .as_ref()
        .is_some_and(|t| principal.administers_trust(t));
    principal.require(allowed, &format!("read the audit log of {trust_code}"))?;
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::TrustCode.eq(trust_code.trim().to_uppercase()))
        .order_by_desc(audit_log::Column::At)
        .all(db)
        .await?)
}
