//! Judging: a judge's work list with a score form per nomination and a conflict form; the shortlist
//! of a category with weighted scores and each judge's progress, and the forms that announce
//! finalists (national and regional campaigns) or a winner (trust campaigns).

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_proto::nomination::v1::{
    AnnounceFinalistsRequest, AnnounceWinnerRequest, Campaign, DeclareConflictRequest,
    ForwardWinnerRequest, ListJudgingWorkRequest, ListRecognisedRequest, Nomination,
    ScoreNominationRequest,
};

use super::nomination_view::{NominationView, trust_name};
use super::signed::{AdminResult, Signed, check_csrf, field_errors, form_field};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::{see_other, segment};
use crate::templates;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
    category: String,
}

#[derive(Debug, Serialize)]
struct CriterionView {
    id: String,
    name: String,
    weight: u32,
    /// This judge's score, if given (or typed into a form that came back).
    score: Option<u32>,
}

#[derive(Debug, Serialize)]
struct WorkItem {
    nomination: NominationView,
    criteria: Vec<CriterionView>,
    scored: bool,
}

/// A form that came back: which nomination, and its errors.
#[derive(Debug, Default, Serialize)]
struct Rejected {
    nomination_id: String,
    form: String,
    reason: String,
    errors: Vec<SummaryError>,
}

fn judging_path(slug: &str, done: &str) -> String {
    format!(
        "/admin/campaigns/{}/judging{}",
        segment(slug),
        if done.is_empty() {
            String::new()
        } else {
            format!("?done={}", segment(done))
        }
    )
}

/// `GET /admin/campaigns/{slug}/judging`
pub async fn work(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    work_page(&signed, &headers, &slug, &query.done, None, &HashMap::new()).await
}

async fn work_page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    done: &str,
    rejected: Option<Rejected>,
    typed: &HashMap<String, u32>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let work = signed
        .nomination()
        .list_judging_work(signed.signed(ListJudgingWorkRequest {
            campaign_id: campaign.id.clone(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner();
    let rejected_id = rejected.as_ref().map(|r| r.nomination_id.clone());
    let items: Vec<WorkItem> = work
        .items
        .iter()
        .filter_map(|item| {
            let nomination = item.nomination.as_ref()?;
            let retyped = rejected_id.as_deref() == Some(nomination.id.as_str());
            Some(WorkItem {
                nomination: NominationView::new(nomination, &campaign),
                criteria: work
                    .criteria
                    .iter()
                    .map(|c| CriterionView {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        weight: c.weight,
                        score: if retyped {
                            typed.get(&c.id).copied()
                        } else {
                            item.scores.get(&c.id).copied()
                        },
                    })
                    .collect(),
                scored: !item.scores.is_empty(),
            })
        })
        .collect();
    let status = if rejected.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let done = match done {
        "score" => Some("Scores saved"),
        "conflict" => Some("Conflict of interest declared: this nomination has left your list"),
        _ => None,
    };
    let view = CampaignView::from(&campaign);
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/judging.html",
            context! {
                page_title => format!("Judging – {}", view.name),
                errors => rejected.as_ref().map(|r| r.errors.clone()).unwrap_or_default(),
                campaign => view,
                items => items,
                scored => work.scored,
                total => work.total,
                has_rubric => !work.criteria.is_empty(),
                rejected => rejected,
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// `POST /admin/campaigns/{slug}/judging/{id}/score`: fields `score-<criterion id>`, each 0–5.
pub async fn score(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AdminResult<Response> {
    check_csrf(
        &headers,
        form_field(&pairs, "csrf_token"),
        &judging_path(&slug, ""),
    )?;
    // A score that is not a number 0–5 is sent as one the service will refuse by name.
    let scores: HashMap<String, u32> = pairs
        .iter()
        .filter_map(|(k, v)| {
            let criterion = k.strip_prefix("score-")?;
            let value = v.trim().parse::<u32>().ok()?;
            Some((criterion.to_owned(), value))
        })
        .collect();
    let scored = signed
        .nomination()
        .score_nomination(signed.signed(ScoreNominationRequest {
            nomination_id: id.clone(),
            scores: scores.clone(),
        }))
        .await;
    match scored {
        Ok(_) => Ok(see_other(&judging_path(&slug, "score"))?),
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let errors = errors
                .iter()
                .map(|e| {
                    let criterion = e
                        .field
                        .strip_prefix("scores[")
                        .and_then(|f| f.strip_suffix(']'));
                    SummaryError {
                        field: criterion
                            .map(|c| format!("score-{c}-{id}"))
                            .unwrap_or_default(),
                        message: e.message.clone(),
                    }
                })
                .collect();
            let rejected = Rejected {
                nomination_id: id,
                form: "score".into(),
                errors,
                ..Rejected::default()
            };
            work_page(&signed, &headers, &slug, "", Some(rejected), &scores).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConflictForm {
    csrf_token: String,
    reason: String,
}

/// `POST /admin/campaigns/{slug}/judging/{id}/conflict`
pub async fn conflict(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<ConflictForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &judging_path(&slug, ""))?;
    let declared = signed
        .nomination()
        .declare_conflict(signed.signed(DeclareConflictRequest {
            nomination_id: id.clone(),
            reason: form.reason.clone(),
        }))
        .await;
    match declared {
        Ok(_) => Ok(see_other(&judging_path(&slug, "conflict"))?),
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let rejected = Rejected {
                errors: errors
                    .iter()
                    .map(|e| SummaryError {
                        field: format!("conflict-reason-{id}"),
                        message: e.message.clone(),
                    })
                    .collect(),
                nomination_id: id,
                form: "conflict".into(),
                reason: form.reason,
            };
            work_page(
                &signed,
                &headers,
                &slug,
                "",
                Some(rejected),
                &HashMap::new(),
            )
            .await
        }
    }
}

#[derive(Debug, Serialize)]
struct ShortlistRow {
    nomination: NominationView,
    weighted_score: String,
    judges_scored: u32,
}

#[derive(Debug, Serialize)]
struct RegionGroup {
    region_code: String,
    rows: Vec<ShortlistRow>,
}

fn shortlist_path(slug: &str, category: &str, done: &str) -> String {
    let mut path = format!(
        "/admin/campaigns/{}/shortlist?category={}",
        segment(slug),
        segment(category)
    );
    if !done.is_empty() {
        path.push_str(&format!("&done={}", segment(done)));
    }
    path
}

/// `GET /admin/campaigns/{slug}/shortlist?category=`
pub async fn shortlist(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(&slug).await?;
    let category = campaign
        .categories
        .iter()
        .find(|c| c.id == query.category)
        .or(campaign.categories.first())
        .cloned()
        .unwrap_or_default();
    let list = signed.shortlist(&campaign, &category.id).await?;
    let mut regions: BTreeMap<String, Vec<ShortlistRow>> = BTreeMap::new();
    for entry in &list.entries {
        let Some(nomination) = entry.nomination.as_ref() else {
            continue;
        };
        regions
            .entry(entry.region_code.clone())
            .or_default()
            .push(ShortlistRow {
                nomination: NominationView::new(nomination, &campaign),
                weighted_score: format!("{:.2}", entry.weighted_score),
                judges_scored: entry.judges_scored,
            });
    }
    let regions: Vec<RegionGroup> = regions
        .into_iter()
        .map(|(region_code, rows)| RegionGroup { region_code, rows })
        .collect();
    let done = match query.done.as_str() {
        "finalists" => Some("Finalists announced"),
        "winner" => Some("Winner announced"),
        "forwarded" => {
            Some("Winner forwarded: the nomination is entered in that campaign, already approved")
        }
        _ => None,
    };
    let forwards = if campaign.scope == "trust" {
        forwards(&signed, &campaign, &list.entries).await?
    } else {
        Vec::new()
    };
    let view = CampaignView::from(&campaign);
    let categories: Vec<_> = campaign
        .categories
        .iter()
        .map(|c| {
            context! {
                name => c.name,
                path => shortlist_path(&slug, &c.id, ""),
                current => c.id == category.id,
            }
        })
        .collect();
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/shortlist.html",
            context! {
                page_title => format!("Shortlist – {} – {}", category.name, view.name),
                campaign => view,
                category => context! { id => category.id, name => category.name },
                categories => categories,
                trust_campaign => campaign.scope == "trust",
                regions => regions,
                forwards => forwards,
                progress => list.progress.iter().map(|p| context! {
                    judge_email => p.judge_email, scored => p.scored, total => p.total,
                }).collect::<Vec<_>>(),
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// `POST /admin/campaigns/{slug}/shortlist/finalists`: fields `category`, `region`, and a
/// `nomination_id` per finalist chosen.
pub async fn finalists(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AdminResult<Response> {
    let category = form_field(&pairs, "category").to_owned();
    check_csrf(
        &headers,
        form_field(&pairs, "csrf_token"),
        &shortlist_path(&slug, &category, ""),
    )?;
    let campaign = signed.campaign(&slug).await?;
    let nomination_ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "nomination_id")
        .map(|(_, v)| v.clone())
        .collect();
    signed
        .nomination()
        .announce_finalists(signed.signed(AnnounceFinalistsRequest {
            campaign_id: campaign.id,
            category_id: category.clone(),
            region_code: form_field(&pairs, "region").to_owned(),
            nomination_ids,
        }))
        .await
        .map_err(|s| signed.refused(s))?;
    Ok(see_other(&shortlist_path(&slug, &category, "finalists"))?)
}

/// The winner form, and the form that forwards a winner to another campaign.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WinnerForm {
    csrf_token: String,
    category: String,
    nomination_id: String,
    /// Forwarding only.
    to_campaign_id: String,
}

/// `POST /admin/campaigns/{slug}/shortlist/winner`
pub async fn winner(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<WinnerForm>,
) -> AdminResult<Response> {
    let back = shortlist_path(&slug, &form.category, "");
    check_csrf(&headers, &form.csrf_token, &back)?;
    signed
        .nomination()
        .announce_winner(signed.signed(AnnounceWinnerRequest {
            nomination_id: form.nomination_id,
        }))
        .await
        .map_err(|s| signed.refused(s))?;
    Ok(see_other(&shortlist_path(&slug, &form.category, "winner"))?)
}

/// A trust winner of the shortlist's category, and the campaigns it could go on to.
#[derive(Debug, Serialize)]
struct ForwardView {
    nomination_id: String,
    nominee: String,
    trust: String,
    /// Regional and national campaigns open to the winner's trust.
    targets: Vec<TargetView>,
}

#[derive(Debug, Serialize)]
struct TargetView {
    value: String,
    label: String,
}

/// The announced winners among `entries` (ListRecognised lists them; a winner has always agreed to
/// be listed, so none is missing) with the campaigns each could be forwarded to.
async fn forwards(
    signed: &Signed,
    campaign: &Campaign,
    entries: &[valued_proto::nomination::v1::ShortlistEntry],
) -> AdminResult<Vec<ForwardView>> {
    let recognised = signed
        .nomination()
        .list_recognised(ListRecognisedRequest {
            campaign_id: campaign.id.clone(),
        })
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .entries;
    let won = |n: &Nomination| {
        recognised
            .iter()
            .any(|r| r.kind == "winner" && r.nomination_id == n.id)
    };
    let winners: Vec<&Nomination> = entries
        .iter()
        .filter_map(|e| e.nomination.as_ref())
        .filter(|n| won(n))
        .collect();
    if winners.is_empty() {
        return Ok(Vec::new());
    }
    let campaigns = signed.campaigns().await?;
    Ok(winners
        .into_iter()
        .map(|n| ForwardView {
            nomination_id: n.id.clone(),
            nominee: n.nominee_name.clone(),
            trust: trust_name(campaign, &n.trust_code),
            targets: campaigns
                .iter()
                .filter(|c| c.id != campaign.id && c.scope != "trust")
                .filter(|c| c.trusts.is_empty() || c.trusts.iter().any(|t| t.code == n.trust_code))
                .map(|c| TargetView {
                    value: c.id.clone(),
                    label: c.name.clone(),
                })
                .collect(),
        })
        .collect())
}

/// `POST /admin/campaigns/{slug}/shortlist/forward`: enters a trust winner into a regional or
/// national campaign.
pub async fn forward(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<WinnerForm>,
) -> AdminResult<Response> {
    let back = shortlist_path(&slug, &form.category, "");
    check_csrf(&headers, &form.csrf_token, &back)?;
    signed
        .nomination()
        .forward_winner(signed.signed(ForwardWinnerRequest {
            nomination_id: form.nomination_id,
            to_campaign_id: form.to_campaign_id,
        }))
        .await
        .map_err(|s| signed.refused(s))?;
    Ok(see_other(&shortlist_path(
        &slug,
        &form.category,
        "forwarded",
    ))?)
}
