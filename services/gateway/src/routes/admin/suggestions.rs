//! A trust's suggestion box for its admins: every suggestion, waiting ones first, each approved for
//! the public board or rejected with one button; and a page per suggestion to set its status with
//! the reason the board shows. The survey-feedback service decides who may (the trust's own admins
//! and platform admins) and audits every decision.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_platform::domain::FieldError;
use valued_proto::survey::v1::{
    ListTrustSuggestionsRequest, ModerateSuggestionRequest, SetSuggestionStatusRequest,
    TrustSuggestion,
};

use super::signed::{AdminResult, Signed, check_csrf, field_errors};
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::routes::suggestions::status_label;
use crate::templates;

const STATUS_FIELDS: [&str; 2] = ["status", "public_reason"];

fn list_path(trust: &str) -> String {
    format!("/admin/trusts/{}/suggestions", segment(trust))
}

#[derive(Debug, Serialize)]
struct Item {
    id: String,
    text: String,
    moderation: String,
    status: &'static str,
    status_class: &'static str,
    public_reason: String,
    supporters: u64,
    suggester: String,
    posted_on: String,
    action: String,
    status_path: String,
}

fn item(trust: &str, s: &TrustSuggestion) -> Item {
    let board = s.suggestion.clone().unwrap_or_default();
    let (status, status_class) = status_label(&board.status);
    let path = format!("{}/{}", list_path(trust), segment(&board.suggestion_id));
    Item {
        id: board.suggestion_id.clone(),
        text: board.text,
        moderation: s.moderation.clone(),
        status,
        status_class,
        public_reason: board.public_reason,
        supporters: board.supporters,
        suggester: if s.named {
            s.suggester_name.clone()
        } else {
            String::new()
        },
        posted_on: valued_platform::uk_time::of(board.posted_on.as_ref())
            .map(valued_platform::uk_time::day)
            .unwrap_or_default(),
        action: format!("{path}/moderate"),
        status_path: path,
    }
}

async fn suggestions(signed: &Signed, trust: &str) -> AdminResult<Vec<TrustSuggestion>> {
    Ok(signed
        .clients
        .feedback
        .clone()
        .list_trust_suggestions(signed.signed(ListTrustSuggestionsRequest {
            trust_code: trust.to_owned(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .suggestions)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    done: String,
}

/// `GET /admin/trusts/{code}/suggestions`
pub async fn list(
    signed: Signed,
    headers: HeaderMap,
    Path(trust): Path<String>,
    Query(query): Query<ListQuery>,
) -> AdminResult<Response> {
    let all = suggestions(&signed, &trust).await?;
    let items: Vec<Item> = all.iter().map(|s| item(&trust, s)).collect();
    let (waiting, decided): (Vec<Item>, Vec<Item>) =
        items.into_iter().partition(|i| i.moderation == "waiting");
    let done = match query.done.as_str() {
        "approved" => Some("Suggestion approved: it is on the board"),
        "rejected" => Some("Suggestion rejected: it is not shown"),
        "status" => Some("Status saved: the board shows it"),
        _ => None,
    };
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/suggestions.html",
            context! {
                page_title => format!("Suggestions – trust {trust}"),
                trust_code => &trust,
                board_path => format!("/suggestions/{}", segment(&trust)),
                waiting => waiting,
                decided => decided,
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModerateForm {
    csrf_token: String,
    /// "approve" or "reject".
    decision: String,
}

/// `POST /admin/trusts/{code}/suggestions/{id}/moderate`
pub async fn moderate(
    signed: Signed,
    headers: HeaderMap,
    Path((trust, id)): Path<(String, String)>,
    Form(form): Form<ModerateForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &list_path(&trust))?;
    let approve = form.decision == "approve";
    signed
        .clients
        .feedback
        .clone()
        .moderate_suggestion(signed.signed(ModerateSuggestionRequest {
            suggestion_id: id,
            approve,
        }))
        .await
        .map_err(|s| signed.refused(s))?;
    let done = if approve { "approved" } else { "rejected" };
    Ok(see_other(&format!("{}?done={done}", list_path(&trust)))?)
}

/// `GET /admin/trusts/{code}/suggestions/{id}`: the status form.
pub async fn show_status(
    signed: Signed,
    headers: HeaderMap,
    Path((trust, id)): Path<(String, String)>,
) -> AdminResult<Response> {
    let found = one(&signed, &trust, &id).await?;
    let board = found.suggestion.clone().unwrap_or_default();
    status_page(
        &headers,
        &trust,
        &found,
        &board.status,
        &board.public_reason,
        &[],
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    csrf_token: String,
    status: String,
    public_reason: String,
}

/// `POST /admin/trusts/{code}/suggestions/{id}`
pub async fn set_status(
    signed: Signed,
    headers: HeaderMap,
    Path((trust, id)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> AdminResult<Response> {
    let back = format!("{}/{}", list_path(&trust), segment(&id));
    check_csrf(&headers, &form.csrf_token, &back)?;
    let saved = signed
        .clients
        .feedback
        .clone()
        .set_suggestion_status(signed.signed(SetSuggestionStatusRequest {
            suggestion_id: id.clone(),
            status: form.status.clone(),
            public_reason: form.public_reason.clone(),
        }))
        .await;
    match saved {
        Ok(_) => Ok(see_other(&format!("{}?done=status", list_path(&trust)))?),
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let found = one(&signed, &trust, &id).await?;
            status_page(
                &headers,
                &trust,
                &found,
                &form.status,
                &form.public_reason,
                &errors,
            )
        }
    }
}

/// The trust's suggestion `id`, or the not-found page.
async fn one(signed: &Signed, trust: &str, id: &str) -> AdminResult<TrustSuggestion> {
    suggestions(signed, trust)
        .await?
        .into_iter()
        .find(|s| s.suggestion.as_ref().is_some_and(|b| b.suggestion_id == id))
        .ok_or_else(|| crate::error::GatewayError::NotFound.into())
}

fn status_page(
    headers: &HeaderMap,
    trust: &str,
    found: &TrustSuggestion,
    status: &str,
    public_reason: &str,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let summary = forms::summary(errors, &STATUS_FIELDS, |_| None);
    let shown = item(trust, found);
    let statuses: Vec<_> = ["received", "under_consideration", "done", "not_this_time"]
        .into_iter()
        .map(|value| context! { value => value, label => status_label(value).0 })
        .collect();
    Ok(forms::form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/suggestion_status.html",
                context! {
                    page_title => "Set the status of a suggestion",
                    trust_code => trust,
                    list_path => list_path(trust),
                    suggestion => shown,
                    statuses => statuses,
                    status => status,
                    public_reason => public_reason,
                    csrf_token => csrf_token,
                    errors => summary,
                    error => forms::by_field(&summary),
                },
            )
        },
    )?)
}
