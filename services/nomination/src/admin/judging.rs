//! Judging: a weighted rubric per campaign, panels of judges per category, scores, conflicts of
//! interest, and the shortlist ranked by weighted score.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, single_line};
use valued_platform::outbox::Outbox;

use crate::admin::audit::record;
use crate::admin::moderation::administered_trusts;
use crate::auth::{Principal, Role};
use crate::db::entities::{
    campaign, conflict, criterion, judge_assignment, nomination, score, trust,
};
use crate::db::load::{campaign, category_of, nomination_and_trust};
use crate::domain::{RecordId, Status};
use crate::error::{Error, Result};

pub const MAX_SCORE: u32 = 5;
const MAX_WEIGHT: u32 = 100;

/// A criterion as an admin enters it.
pub struct NewCriterion {
    pub name: String,
    pub weight: u32,
}

pub async fn rubric(db: &impl ConnectionTrait, campaign_id: Uuid) -> Result<Vec<criterion::Model>> {
    Ok(criterion::Entity::find()
        .filter(criterion::Column::CampaignId.eq(campaign_id))
        .order_by_asc(criterion::Column::Position)
        .all(db)
        .await?)
}

/// A campaign's rubric, for whoever administers or judges it.
pub async fn rubric_for(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &RecordId,
) -> Result<Vec<criterion::Model>> {
    let campaign = campaign(db, campaign_id).await?;
    principal.require(
        principal.administers_campaign(&campaign) || principal.judges(campaign.id),
        &format!("see the rubric of {}", campaign.name),
    )?;
    rubric(db, campaign.id).await
}

/// Replaces a campaign's rubric; refused once anyone has scored against it.
pub async fn set_rubric(
    db: &DatabaseConnection,
    principal: &Principal,
    campaign_id: &RecordId,
    criteria: &[NewCriterion],
) -> Result<Vec<criterion::Model>> {
    let campaign = campaign(db, campaign_id).await?;
    principal.require(
        principal.administers_campaign(&campaign),
        &format!("set the rubric of {}", campaign.name),
    )?;
    let mut errors = FieldErrors::new();
    if criteria.is_empty() {
        errors.push(FieldError::new("criteria", "Add at least one criterion"));
    }
    let mut names = Vec::new();
    for (i, c) in criteria.iter().enumerate() {
        if let Some(name) = errors.check(single_line(
            &format!("criteria[{i}].name"),
            "the criterion's name",
            &c.name,
            100,
        )) {
            names.push(name);
        }
        if !(1..=MAX_WEIGHT).contains(&c.weight) {
            errors.push(FieldError::new(
                &format!("criteria[{i}].weight"),
                "Weight must be a whole number from 1 to 100",
            ));
        }
    }
    errors.into_result().map_err(Error::Invalid)?;
    let criterion_ids: Vec<Uuid> = rubric(db, campaign.id)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    let scored = score::Entity::find()
        .filter(score::Column::CriterionId.is_in(criterion_ids))
        .count(db)
        .await?;
    if scored > 0 {
        return Err(Error::Closed(
            "The rubric cannot change once judges have scored".into(),
        ));
    }
    let txn = db.begin().await?;
    criterion::Entity::delete_many()
        .filter(criterion::Column::CampaignId.eq(campaign.id))
        .exec(&txn)
        .await?;
    for (position, (name, c)) in (0..).zip(names.into_iter().zip(criteria)) {
        criterion::Entity::insert(criterion::ActiveModel {
            id: ActiveValue::Set(Uuid::now_v7()),
            campaign_id: ActiveValue::Set(campaign.id),
            name: ActiveValue::Set(name),
            weight: ActiveValue::Set(i32::try_from(c.weight).unwrap_or(1)),
            position: ActiveValue::Set(position),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    record(
        &txn,
        principal,
        "set_rubric",
        None,
        scope_trust(&campaign),
        "",
    )
    .await?;
    txn.commit().await?;
    rubric(db, campaign.id).await
}

/// Puts a judge on a category's panel and gives them the judge role for the campaign.
pub async fn assign_judge(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    campaign_id: &RecordId,
    category_id: &RecordId,
    judge_email: &str,
) -> Result<()> {
    let campaign = campaign(db, campaign_id).await?;
    principal.require(
        principal.administers_campaign(&campaign),
        &format!("choose judges for {}", campaign.name),
    )?;
    let category = category_of(db, &campaign, category_id).await?;
    let email = EmailAddress::parse("judge_email", judge_email)
        .map_err(|e| Error::Invalid(vec![e]))?
        .normalised();
    let txn = db.begin().await?;
    judge_assignment::Entity::insert(judge_assignment::ActiveModel {
        campaign_id: ActiveValue::Set(campaign.id),
        category_id: ActiveValue::Set(category.id),
        judge_email: ActiveValue::Set(email.clone()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    crate::auth::grant(
        &txn,
        outbox,
        &crate::auth::Actor::Admin(principal),
        &email,
        Role::Judge,
        &campaign.id.to_string(),
    )
    .await?;
    record(
        &txn,
        principal,
        "assign_judge",
        None,
        scope_trust(&campaign),
        &format!("{email} judges {}", category.name),
    )
    .await?;
    outbox.commit(txn).await?;
    Ok(())
}

/// What one judge has to score in a campaign, with the scores they gave.
pub struct JudgingWork {
    pub criteria: Vec<criterion::Model>,
    pub items: Vec<(nomination::Model, BTreeMap<String, u32>)>,
}

pub async fn work(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &RecordId,
) -> Result<JudgingWork> {
    let campaign = campaign(db, campaign_id).await?;
    principal.require(
        principal.judges(campaign.id),
        &format!("judge {}", campaign.name),
    )?;
    let categories: Vec<Uuid> = judge_assignment::Entity::find()
        .filter(judge_assignment::Column::CampaignId.eq(campaign.id))
        .filter(judge_assignment::Column::JudgeEmail.eq(principal.email.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.category_id)
        .collect();
    let conflicted: HashSet<Uuid> = conflict::Entity::find()
        .filter(conflict::Column::JudgeEmail.eq(principal.email.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.nomination_id)
        .collect();
    let nominations: Vec<nomination::Model> = nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::CategoryId.is_in(categories))
        .filter(nomination::Column::Status.eq(Status::Approved.slug()))
        .order_by_asc(nomination::Column::SubmittedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|n| !conflicted.contains(&n.id))
        .collect();
    let mut scores: HashMap<Uuid, BTreeMap<String, u32>> = HashMap::new();
    for s in score::Entity::find()
        .filter(score::Column::JudgeEmail.eq(principal.email.clone()))
        .filter(score::Column::NominationId.is_in(nominations.iter().map(|n| n.id)))
        .all(db)
        .await?
    {
        scores.entry(s.nomination_id).or_default().insert(
            s.criterion_id.to_string(),
            u32::try_from(s.score).unwrap_or(0),
        );
    }
    let administered: HashSet<String> = trust::Entity::find()
        .filter(trust::Column::Code.is_in(nominations.iter().map(|n| n.trust_code.clone())))
        .all(db)
        .await?
        .into_iter()
        .filter(|t| principal.administers_trust(t))
        .map(|t| t.code)
        .collect();
    Ok(JudgingWork {
        criteria: rubric(db, campaign.id).await?,
        items: nominations
            .into_iter()
            .map(|n| {
                let given = scores.remove(&n.id).unwrap_or_default();
                if administered.contains(&n.trust_code) {
                    (n, given)
                } else {
                    (for_judge(n), given)
                }
            })
            .collect(),
    })
}

/// The judge's scores for one nomination: every criterion, 0–5. Scoring again replaces them.
pub async fn score(
    db: &DatabaseConnection,
    principal: &Principal,
    nomination_id: &RecordId,
    given: &BTreeMap<String, u32>,
) -> Result<()> {
    let (found, trust, campaign) = judgeable(db, principal, nomination_id).await?;
    campaign
        .windows()
        .accepts_scores_at(Utc::now())
        .map_err(|reason| {
            Error::Closed(format!("{} cannot be scored now: {reason}", campaign.name))
        })?;
    let criteria = rubric(db, campaign.id).await?;
    let mut errors = FieldErrors::new();
    for c in &criteria {
        match given.get(&c.id.to_string()) {
            Some(value) if *value <= MAX_SCORE => {}
            Some(_) => errors.push(FieldError::new(
                &format!("scores[{}]", c.id),
                format!("Score {} from 0 to 5", c.name),
            )),
            None => errors.push(FieldError::new(
                &format!("scores[{}]", c.id),
                format!("Score {}", c.name),
            )),
        }
    }
    if criteria.is_empty() {
        errors.push(FieldError::new("scores", "This campaign has no rubric yet"));
    }
    errors.into_result().map_err(Error::Invalid)?;
    let txn = db.begin().await?;
    score::Entity::delete_many()
        .filter(score::Column::NominationId.eq(found.id))
        .filter(score::Column::JudgeEmail.eq(principal.email.clone()))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for c in &criteria {
        let value = given.get(&c.id.to_string()).copied().unwrap_or_default();
        score::Entity::insert(score::ActiveModel {
            nomination_id: ActiveValue::Set(found.id),
            judge_email: ActiveValue::Set(principal.email.clone()),
            criterion_id: ActiveValue::Set(c.id),
            score: ActiveValue::Set(i32::try_from(value).unwrap_or(0)),
            scored_at: ActiveValue::Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    record(&txn, principal, "score", Some(found.id), &trust.code, "").await?;
    txn.commit().await?;
    Ok(())
}

/// A judge steps away from a nomination: their scores for it go and they no longer see it.
pub async fn declare_conflict(
    db: &DatabaseConnection,
    principal: &Principal,
    nomination_id: &RecordId,
    reason: &str,
) -> Result<()> {
    let (found, trust, _) = judgeable(db, principal, nomination_id).await?;
    let reason =
        single_line("reason", "the reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = db.begin().await?;
    conflict::Entity::insert(conflict::ActiveModel {
        nomination_id: ActiveValue::Set(found.id),
        judge_email: ActiveValue::Set(principal.email.clone()),
        reason: ActiveValue::Set(reason.clone()),
        declared_at: ActiveValue::Set(Utc::now()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    score::Entity::delete_many()
        .filter(score::Column::NominationId.eq(found.id))
        .filter(score::Column::JudgeEmail.eq(principal.email.clone()))
        .exec(&txn)
        .await?;
    record(
        &txn,
        principal,
        "declare_conflict",
        Some(found.id),
        &trust.code,
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An approved nomination the caller judges: on its category's panel and not conflicted.
async fn judgeable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    nomination_id: &RecordId,
) -> Result<(nomination::Model, trust::Model, campaign::Model)> {
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    principal.require(
        on_panel(db, principal, &found).await?,
        "judge this nomination",
    )?;
    principal.require(
        !conflicted(db, principal, &found).await?,
        "judge a nomination you declared a conflict for",
    )?;
    if found.status != Status::Approved.slug() {
        return Err(Error::Closed("Only approved nominations are judged".into()));
    }
    let campaign = campaign(db, &found.campaign_id.into()).await?;
    Ok((found, trust, campaign))
}

/// A nomination as a judge reads it: the story and the people, not how to reach them. Whoever also
/// administers its trust reads it whole.
pub fn for_judge(mut found: nomination::Model) -> nomination::Model {
    found.nominator_email.clear();
    found.nominee_email.clear();
    found
}

/// Whether the caller judges the campaign and sits on the panel of the nomination's category.
async fn on_panel(
    db: &impl ConnectionTrait,
    principal: &Principal,
    found: &nomination::Model,
) -> Result<bool> {
    Ok(principal.judges(found.campaign_id)
        && judge_assignment::Entity::find_by_id((
            found.campaign_id,
            found.category_id,
            principal.email.clone(),
        ))
        .one(db)
        .await?
        .is_some())
}

async fn conflicted(
    db: &impl ConnectionTrait,
    principal: &Principal,
    found: &nomination::Model,
) -> Result<bool> {
    Ok(
        conflict::Entity::find_by_id((found.id, principal.email.clone()))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Whether the nomination is in the caller's judging work: approved, on their panel, no conflict.
pub async fn in_work_of(
    db: &impl ConnectionTrait,
    principal: &Principal,
    found: &nomination::Model,
) -> Result<bool> {
    Ok(found.status == Status::Approved.slug()
        && on_panel(db, principal, found).await?
        && !conflicted(db, principal, found).await?)
}

pub struct ShortlistEntry {
    pub nomination: nomination::Model,
    pub region_code: String,
    pub weighted_score: f64,
    pub judges_scored: u32,
}

pub struct Progress {
    pub judge_email: String,
    pub scored: u32,
    pub total: u32,
}

/// Approved nominations of a category, best weighted score first, and each judge's progress.
/// Campaign admins see every entry; region and trust admins only their own trusts' entries.
pub async fn shortlist(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_id: &RecordId,
    category_id: &RecordId,
) -> Result<(Vec<ShortlistEntry>, Vec<Progress>)> {
    let campaign = campaign(db, campaign_id).await?;
    let category = category_of(db, &campaign, category_id).await?;
    let visible_trusts: Option<HashMap<String, String>> =
        if principal.administers_campaign(&campaign) {
            None
        } else {
            let trusts = administered_trusts(db, principal, &campaign, "").await?;
            Some(
                trusts
                    .into_iter()
                    .map(|t| (t.code, t.region_code.unwrap_or_default()))
                    .collect(),
            )
        };
    let regions: HashMap<String, String> = trust::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.region_code.unwrap_or_default()))
        .collect();
    let nominations: Vec<nomination::Model> = nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::CategoryId.eq(category.id))
        .filter(nomination::Column::Status.eq(Status::Approved.slug()))
        .all(db)
        .await?
        .into_iter()
        .filter(|n| {
            visible_trusts
                .as_ref()
                .is_none_or(|trusts| trusts.contains_key(&n.trust_code))
        })
        .collect();
    let weights: HashMap<Uuid, f64> = rubric(db, campaign.id)
        .await?
        .into_iter()
        .map(|c| (c.id, f64::from(c.weight)))
        .collect();
    let ids: Vec<Uuid> = nominations.iter().map(|n| n.id).collect();
    let scores = score::Entity::find()
        .filter(score::Column::NominationId.is_in(ids.clone()))
        .all(db)
        .await?;
    // nomination → judge → (Σ weight·score, Σ weight)
    let mut sums: HashMap<Uuid, HashMap<String, (f64, f64)>> = HashMap::new();
    for s in &scores {
        let weight = weights.get(&s.criterion_id).copied().unwrap_or(0.0);
        let entry = sums
            .entry(s.nomination_id)
            .or_default()
            .entry(s.judge_email.clone())
            .or_default();
        entry.0 += weight * f64::from(s.score);
        entry.1 += weight;
    }
    let mut entries: Vec<ShortlistEntry> = nominations
        .into_iter()
        .map(|n| {
            let per_judge: Vec<f64> = sums
                .get(&n.id)
                .map(|judges| {
                    judges
                        .values()
                        .filter(|(_, w)| *w > 0.0)
                        .map(|(sum, w)| sum / w)
                        .collect()
                })
                .unwrap_or_default();
            let judges_scored = u32::try_from(per_judge.len()).unwrap_or(u32::MAX);
            let weighted_score = if per_judge.is_empty() {
                0.0
            } else {
                per_judge.iter().sum::<f64>() / f64::from(judges_scored)
            };
            ShortlistEntry {
                region_code: regions.get(&n.trust_code).cloned().unwrap_or_default(),
                nomination: n,
                weighted_score,
                judges_scored,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        b.weighted_score
            .total_cmp(&a.weighted_score)
            .then(a.nomination.submitted_at.cmp(&b.nomination.submitted_at))
    });

    let conflicts = conflict::Entity::find()
        .filter(conflict::Column::NominationId.is_in(ids.clone()))
        .all(db)
        .await?;
    let judges = judge_assignment::Entity::find()
        .filter(judge_assignment::Column::CampaignId.eq(campaign.id))
        .filter(judge_assignment::Column::CategoryId.eq(category.id))
        .order_by_asc(judge_assignment::Column::JudgeEmail)
        .all(db)
        .await?;
    let progress = judges
        .into_iter()
        .map(|j| {
            let excused = conflicts
                .iter()
                .filter(|c| c.judge_email == j.judge_email)
                .count();
            let scored = sums
                .values()
                .filter(|judges| judges.contains_key(&j.judge_email))
                .count();
            Progress {
                total: u32::try_from(ids.len().saturating_sub(excused)).unwrap_or(u32::MAX),
                scored: u32::try_from(scored).unwrap_or(u32::MAX),
                judge_email: j.judge_email,
            }
        })
        .collect();
    Ok((entries, progress))
}

/// The trust an audit entry about a whole campaign is filed under: its trust for a trust campaign.
fn scope_trust(campaign: &campaign::Model) -> &str {
    match campaign.scope.as_str() {
        "trust" => campaign.scope_code.as_deref().unwrap_or_default(),
        _ => "",
    }
}
