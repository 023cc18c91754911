//! Campaign setup for the admins who run a campaign: the scoring rubric and the judges of each
//! category. The nomination service decides who may change them; the pages only show what it says.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{
    AssignJudgeRequest, Campaign, Criterion, GetRubricRequest, SetRubricRequest,
};

use super::signed::{AdminResult, Signed, check_csrf, field_errors, form_field};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::{see_other, segment};
use crate::templates;

/// Blank rows the rubric form offers below the criteria, for adding some without JavaScript.
const BLANK_ROWS: usize = 3;
/// The rubric form has at least this many rows.
const MIN_ROWS: usize = 5;

fn setup_path(slug: &str, page: &str) -> String {
    format!("/admin/campaigns/{}/{page}", segment(slug))
}

/// One row of the rubric form: what was typed (or saved), and its errors.
#[derive(Debug, Default, Serialize)]
struct RowView {
    name: String,
    weight: String,
    name_error: Option<String>,
    weight_error: Option<String>,
}

/// The rubric page: `rows` filled in, padded with blank ones.
struct RubricPage {
    rows: Vec<RowView>,
    errors: Vec<SummaryError>,
    status: StatusCode,
    done: Option<&'static str>,
}

impl RubricPage {
    fn with_rows(mut rows: Vec<RowView>) -> Self {
        let wanted = (rows.len() + BLANK_ROWS).max(MIN_ROWS);
        rows.resize_with(wanted, RowView::default);
        Self {
            rows,
            errors: Vec::new(),
            status: StatusCode::OK,
            done: None,
        }
    }

    fn render(self, headers: &HeaderMap, campaign: &Campaign) -> AdminResult<Response> {
        let view = CampaignView::from(campaign);
        Ok(forms::form_page(headers, self.status, |csrf_token| {
            templates::render(
                "admin/rubric.html",
                context! {
                    page_title => format!("Scoring rubric – {}", view.name),
                    campaign => view,
                    rows => self.rows,
                    errors => self.errors,
                    done => self.done,
                    csrf_token => csrf_token,
                },
            )
        })?)
    }
}

/// `GET /admin/campaigns/{slug}/rubric`
pub async fn rubric(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(&slug).await?;
    // The saved rubric, to change; asking also checks the caller may see it before they type.
    let saved = signed
        .nomination()
        .get_rubric(signed.signed(GetRubricRequest {
            campaign_id: campaign.id.clone(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .criteria;
    let rows = saved
        .into_iter()
        .map(|c| RowView {
            name: c.name,
            weight: c.weight.to_string(),
            ..RowView::default()
        })
        .collect();
    RubricPage::with_rows(rows).render(&headers, &campaign)
}

/// `POST /admin/campaigns/{slug}/rubric`: rows `name-<n>` and `weight-<n>`; a row left blank is
/// dropped. `action=add` only shows more blank rows.
pub async fn save_rubric(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AdminResult<Response> {
    check_csrf(
        &headers,
        form_field(&pairs, "csrf_token"),
        &setup_path(&slug, "rubric"),
    )?;
    let campaign = signed.campaign(&slug).await?;
    let mut typed: BTreeMap<usize, RowView> = BTreeMap::new();
    for (key, value) in &pairs {
        let (column, row) = match key.split_once('-') {
            Some((column @ ("name" | "weight"), row)) => (column, row),
            _ => continue,
        };
        let Ok(row) = row.parse::<usize>() else {
            continue;
        };
        let entry = typed.entry(row).or_default();
        if column == "name" {
            entry.name = value.trim().to_owned();
        } else {
            entry.weight = value.trim().to_owned();
        }
    }
    let rows: Vec<RowView> = typed
        .into_values()
        .filter(|r| !r.name.is_empty() || !r.weight.is_empty())
        .collect();
    if form_field(&pairs, "action") == "add" {
        return RubricPage::with_rows(rows).render(&headers, &campaign);
    }
    // A weight that is not a whole number is sent as 0, which the service refuses by name.
    let criteria: Vec<Criterion> = rows
        .iter()
        .map(|r| Criterion {
            id: String::new(),
            name: r.name.clone(),
            weight: r.weight.parse().unwrap_or(0),
        })
        .collect();
    let saved = signed
        .nomination()
        .set_rubric(signed.signed(SetRubricRequest {
            campaign_id: campaign.id.clone(),
            criteria,
        }))
        .await;
    let status = match saved {
        Ok(saved) => {
            let rows = saved
                .into_inner()
                .criteria
                .into_iter()
                .map(|c| RowView {
                    name: c.name,
                    weight: c.weight.to_string(),
                    ..RowView::default()
                })
                .collect();
            let mut page = RubricPage::with_rows(rows);
            page.done = Some("Rubric saved");
            return page.render(&headers, &campaign);
        }
        Err(status) => status,
    };
    let mut page = RubricPage::with_rows(rows);
    if status.code() == Code::FailedPrecondition {
        // Scores exist: the rubric stays as it was; the admin keeps what they typed.
        page.status = StatusCode::CONFLICT;
        page.errors = vec![SummaryError {
            field: String::new(),
            message: status.message().to_owned(),
        }];
        return page.render(&headers, &campaign);
    }
    page.status = StatusCode::BAD_REQUEST;
    page.errors = rubric_errors(&field_errors(&signed, status)?, &mut page.rows);
    page.render(&headers, &campaign)
}

/// The service's `criteria[<n>].name` and `.weight` errors put beside row n, and the summary.
fn rubric_errors(errors: &[FieldError], rows: &mut [RowView]) -> Vec<SummaryError> {
    errors
        .iter()
        .map(|e| {
            let place = e
                .field
                .strip_prefix("criteria[")
                .and_then(|rest| rest.split_once("]."))
                .and_then(|(row, column)| Some((row.parse::<usize>().ok()?, column)));
            let field = match place {
                Some((row, column @ ("name" | "weight"))) if row < rows.len() => {
                    let slot = if column == "name" {
                        &mut rows[row].name_error
                    } else {
                        &mut rows[row].weight_error
                    };
                    slot.get_or_insert_with(|| e.message.clone());
                    format!("{column}-{row}")
                }
                // "Add at least one criterion": the first name.
                _ if e.field == "criteria" => "name-0".to_owned(),
                _ => String::new(),
            };
            SummaryError {
                field,
                message: e.message.clone(),
            }
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JudgesQuery {
    done: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct JudgeForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    judge_email: String,
    category_id: String,
}

/// `GET /admin/campaigns/{slug}/judges`
pub async fn judges(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<JudgesQuery>,
) -> AdminResult<Response> {
    let done = (query.done == "assigned").then_some("Judge assigned");
    judges_page(
        &signed,
        &headers,
        &slug,
        JudgeForm::default(),
        Vec::new(),
        done,
    )
    .await
}

/// The judges of each category (the shortlist's progress lists them) and the form to add one.
async fn judges_page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    form: JudgeForm,
    errors: Vec<SummaryError>,
    done: Option<&str>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let mut panels = Vec::new();
    for category in &campaign.categories {
        let progress = signed.shortlist(&campaign, &category.id).await?.progress;
        panels.push(context! {
            name => category.name,
            judges => progress.iter().map(|p| context! {
                email => p.judge_email, scored => p.scored, total => p.total,
            }).collect::<Vec<_>>(),
        });
    }
    let categories: Vec<_> = campaign
        .categories
        .iter()
        .map(|c| context! { value => c.id, label => c.name })
        .collect();
    let messages = forms::by_field(&errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let view = CampaignView::from(&campaign);
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/judges.html",
            context! {
                page_title => format!("Judges – {}", view.name),
                campaign => view,
                panels => panels,
                categories => categories,
                form => form,
                errors => errors,
                messages => messages,
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// `POST /admin/campaigns/{slug}/judges`
pub async fn assign_judge(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<JudgeForm>,
) -> AdminResult<Response> {
    let back = setup_path(&slug, "judges");
    check_csrf(&headers, &form.csrf_token, &back)?;
    let campaign = signed.campaign(&slug).await?;
    let assigned = signed
        .nomination()
        .assign_judge(signed.signed(AssignJudgeRequest {
            campaign_id: campaign.id,
            category_id: form.category_id.clone(),
            judge_email: form.judge_email.trim().to_owned(),
        }))
        .await;
    match assigned {
        Ok(_) => Ok(see_other(&format!("{back}?done=assigned"))?),
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let errors = forms::summary(&errors, &["judge_email", "category_id"], |_| None);
            judges_page(&signed, &headers, &slug, form, errors, None).await
        }
    }
}
