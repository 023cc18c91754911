//! Stories told for campaigns: the moderation list (approve, or reject with a reason), each
//! story's audit trail, and "reveal number to call", a POST that the survey-feedback service
//! allows only to an admin of the story's campaign whose teller agreed to be contacted, and
//! records with the admin and their reason before the number is shown.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tonic::Code;
use valued_proto::survey::v1::{
    ListStoriesRequest, ListStoryAuditRequest, ModerateStoryRequest, RevealStoryPhoneRequest,
};

use super::signed::{AdminError, AdminResult, Signed, check_csrf};
use crate::clients::SURVEY_FEEDBACK;
use crate::error::GatewayError;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

const LIST: &str = "/admin/stories";

/// What a refused call shows: the survey-feedback service's own words for a decision it will not
/// take, sign-in or the 403 page for the caller, an unavailable page otherwise.
fn fail(signed: &Signed, status: tonic::Status) -> AdminError {
    match status.code() {
        Code::Unauthenticated | Code::PermissionDenied | Code::FailedPrecondition => {
            signed.fail(status)
        }
        Code::InvalidArgument => signed.refused(status),
        // A story the caller does not moderate is not found, whether or not it exists.
        Code::NotFound => AdminError::Denied,
        _ => AdminError::Gateway(GatewayError::from_status(SURVEY_FEEDBACK, status)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// "yes" to list moderated stories too.
    all: String,
    done: String,
}

/// `GET /admin/stories?all=yes`
pub async fn list(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> AdminResult<Response> {
    let all = query.all == "yes";
    // A first sign-in binds the caller's grants in the nomination service, which announces them
    // to the service that holds the stories.
    signed.roles().await?;
    let request = ListStoriesRequest {
        campaign_id: String::new(),
        include_moderated: all,
    };
    let client = signed.clients.stories.clone();
    let ask = || {
        let mut client = client.clone();
        let request = signed.signed(request.clone());
        async move { client.list_stories(request).await }
    };
    // Refused just after signing in: the service's copy of the grants may not have caught up.
    let listed = if signed.just_signed_in() {
        super::notifications::through_grant_copy(ask).await
    } else {
        ask().await.map(tonic::Response::into_inner)
    };
    let stories = listed.map_err(|s| fail(&signed, s))?.stories;
    let done = match query.done.as_str() {
        "approve" => Some("Story approved"),
        "reject" => Some("Story rejected"),
        _ => None,
    };
    let stories: Vec<_> = stories
        .iter()
        .map(|s| {
            let campaign = s.campaign.clone().unwrap_or_default();
            let consents: Vec<&str> = [
                (s.consent_publish, "publish on the campaign page"),
                (s.consent_press, "share with the press"),
                (s.consent_mp, "share with their MP"),
                (s.consent_contact, "contact them"),
            ]
            .into_iter()
            .filter_map(|(given, purpose)| given.then_some(purpose))
            .collect();
            context! {
                id => s.story_id,
                campaign => campaign.name,
                status => s.status,
                works_in_nhs => s.works_in_nhs,
                nhs_role => s.nhs_role,
                story => s.story,
                consents => consents,
                can_call => s.consent_contact && s.has_phone,
                submitted_on => valued_platform::uk_time::when_of(s.submitted_at.as_ref()),
            }
        })
        .collect();
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/stories.html",
            context! {
                page_title => "Stories",
                all => all,
                stories => stories,
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
    decision: String,
    reason: String,
}

/// `POST /admin/stories/{id}/moderate`
pub async fn moderate(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ModerateForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, LIST)?;
    signed
        .clients
        .stories
        .clone()
        .moderate_story(signed.signed(ModerateStoryRequest {
            story_id: id,
            decision: form.decision.clone(),
            reason: form.reason,
        }))
        .await
        .map_err(|s| fail(&signed, s))?;
    tracing::info!(decision = %form.decision, "story moderated");
    Ok(see_other(&format!(
        "{LIST}?done={}",
        segment(&form.decision)
    ))?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevealForm {
    csrf_token: String,
    reason: String,
}

/// `POST /admin/stories/{id}/phone`: the number, on a page of its own that is never stored
/// (every page is `no-store`), after the service has recorded the reveal.
pub async fn reveal(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RevealForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, LIST)?;
    let phone = signed
        .clients
        .stories
        .clone()
        .reveal_story_phone(signed.signed(RevealStoryPhoneRequest {
            story_id: id.clone(),
            reason: form.reason,
        }))
        .await
        .map_err(|s| fail(&signed, s))?
        .into_inner()
        .phone;
    Ok(crate::routes::page::render(
        "admin/story_phone.html",
        context! {
            page_title => "Number to call",
            phone => phone,
            audit => format!("{LIST}/{}/audit", segment(&id)),
        },
    )?)
}

/// `GET /admin/stories/{id}/audit`
pub async fn audit(signed: Signed, Path(id): Path<String>) -> AdminResult<Response> {
    let entries = signed
        .clients
        .stories
        .clone()
        .list_story_audit(signed.signed(ListStoryAuditRequest { story_id: id }))
        .await
        .map_err(|s| fail(&signed, s))?
        .into_inner()
        .entries;
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            context! {
                at => valued_platform::uk_time::when_of(e.at.as_ref()),
                actor => if e.actor.is_empty() { "The teller" } else { e.actor.as_str() },
                action => e.action.replace('_', " "),
                reason => e.reason,
            }
        })
        .collect();
    Ok(crate::routes::page::render(
        "admin/story_audit.html",
        context! { page_title => "Story audit trail", entries => entries },
    )?)
}
