//! The moderation queue of each trust, decisions on nominations, and nominee matches reviewed.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::PersonName;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::MoreInfoRequested;

use crate::admin::audit::record;
use crate::admin::judging;
use crate::auth::Principal;
use crate::db::entities::{campaign, nomination, nominee, trust};
use crate::db::load::{self, campaign, nomination_and_trust, trusts_of};
use crate::domain::{Decision, RecordId, Status};
use crate::error::{Error, Result};
use crate::nominees::{new_nominee, nominee_for, thank_nominee};

/// The campaign's trusts that the caller administers; `only` narrows to one, which must be theirs.
pub async fn administered_trusts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign: &campaign::Model,
    only: &str,
) -> Result<Vec<trust::Model>> {
    let trusts: Vec<trust::Model> = trusts_of(db, campaign)
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

/// One nomination, for whoever administers its trust (its trust's or region's admin, a platform
/// admin) or has it in their judging work, who reads it without its email addresses.
pub async fn nomination_for(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: &RecordId,
) -> Result<nomination::Model> {
    let (found, trust) = nomination_and_trust(db, id).await?;
    if principal.administers_trust(&trust) {
        return Ok(found);
    }
    principal.require(
        judging::in_work_of(db, principal, &found).await?,
        "see this nomination",
    )?;
    Ok(judging::for_judge(found))
}

/// One nominee and how many nominations name them, for whoever administers their trust.
pub async fn nominee_for_admin(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: &RecordId,
) -> Result<(nominee::Model, u64)> {
    let (found, count) = load::nominee(db, id).await?;
    let trust = load::trust(db, &found.trust_code).await?;
    principal.require(principal.administers_trust(&trust), "see this nominee")?;
    Ok((found, count))
}

/// Confirmed nominations awaiting a decision in the caller's trusts, oldest first.
pub async fn queue(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &RecordId,
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
/// The export is written to the audit log of each trust it covers, with how many it took.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    campaign_id: &RecordId,
) -> Result<Vec<nomination::Model>> {
    let campaign = campaign(db, campaign_id).await?;
    let trusts = administered_trusts(db, principal, &campaign, "").await?;
    let txn = db.begin().await?;
    let all = nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::TrustCode.is_in(trusts.iter().map(|t| t.code.clone())))
        .order_by_asc(nomination::Column::SubmittedAt)
        .all(&txn)
        .await?;
    for trust in &trusts {
        let count = all.iter().filter(|n| n.trust_code == trust.code).count();
        let detail = format!("{count} nominations of {}", campaign.name);
        record(&txn, principal, "export", None, &trust.code, &detail).await?;
    }
    txn.commit().await?;
    Ok(all)
}

/// A moderator's decision on one nomination.
pub struct Moderation {
    pub nomination: RecordId,
    pub decision: Decision,
}

/// Approves, rejects or asks the nominator for more, and records who did it.
pub async fn decide(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    moderation: &Moderation,
) -> Result<nomination::Model> {
    let Moderation {
        nomination: nomination_id,
        decision,
    } = moderation;
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
        let campaign = campaign(&txn, &found.campaign_id.into()).await?;
        let event = MoreInfoRequested {
            nomination_id: found.id.to_string(),
            campaign_name: campaign.name,
            trust_name: trust.name.clone(),
            nominee_name: found.display_name(),
            nominator_name: found.nominator_name.clone(),
            nominator_email: found.nominator_email.clone(),
            question: question.clone(),
            reply_to: trust.admin_email.clone(),
        };
        outbox.enqueue(&txn, Some(&trust.code), &event).await?;
    }
    outbox.commit(txn).await?;
    load::nomination(db, nomination_id).await
}

/// What a trust admin says about the nominee a nomination was matched to.
pub enum MatchVerdict {
    /// Who someone the nominator could only describe is. The name and job title are as typed
    /// (a blank job title keeps the nominator's), checked once the caller may review the match.
    Identify { name: String, job_title: String },
    /// The match is right.
    SamePerson,
    /// A different person with the same name and role.
    DifferentPerson,
}

/// A review of one nomination's nominee match.
pub struct MatchReview {
    pub nomination: RecordId,
    pub verdict: MatchVerdict,
}

/// Confirms a nominee match, splits a wrong one off to a nominee of its own, or names someone the
/// nominator could only describe (who is then thanked and asked for consent).
pub async fn review_match(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    review: &MatchReview,
) -> Result<nomination::Model> {
    let nomination_id = &review.nomination;
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    principal.require(
        principal.administers_trust(&trust),
        &format!("review nominees for {}", trust.name),
    )?;
    let txn = db.begin().await?;
    let (action, detail) = if let MatchVerdict::Identify { name, job_title } = &review.verdict {
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
    } else if let MatchVerdict::SamePerson = review.verdict {
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
        let updated = load::nomination(&txn, nomination_id).await?;
        let campaign = campaign(&txn, &found.campaign_id.into()).await?;
        thank_nominee(&txn, outbox, &updated, &campaign, &trust).await?;
    }
    outbox.commit(txn).await?;
    load::nomination(db, nomination_id).await
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
