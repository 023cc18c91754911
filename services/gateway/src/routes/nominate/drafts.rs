//! "Save and come back later": the answers so far are kept by the nomination service as a draft, and
//! the nominator is emailed a link, `/drafts/{token}`, that continues where they left off.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::grpc::field_errors;
use valued_proto::nomination::v1::{Campaign, GetDraftRequest, SaveDraftRequest};

use super::answers::NominationForm;
use super::pages::{self, Page};
use super::view::{Shown, render};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::forms::{self, form_page};

/// Saves the answers of `form` and emails the link to `form.nominator_email`; then "We have emailed
/// you a link". A refused email address is asked for again.
pub async fn save(
    clients: &Clients,
    headers: &HeaderMap,
    campaign: &Campaign,
    mut form: NominationForm,
) -> Result<Response> {
    let mut request = SaveDraftRequest {
        draft_token: form.draft_token.clone(),
        answers: Some(form.to_request()),
        email_resume_link: true,
    };
    let mut saved = clients.nomination.clone().save_draft(request.clone()).await;
    if matches!(&saved, Err(status) if status.code() == Code::NotFound)
        && !request.draft_token.is_empty()
    {
        // The draft these answers came from has expired: keep them as a new one.
        request.draft_token.clear();
        if let Some(answers) = request.answers.as_mut() {
            answers.draft_token.clear();
        }
        saved = clients.nomination.clone().save_draft(request).await;
    }
    match saved {
        Ok(response) => {
            let response = response.into_inner();
            form.draft_token = response.draft_token;
            let expires_on = valued_platform::uk_time::of(response.expires_at.as_ref())
                .map(valued_platform::uk_time::day);
            tracing::info!("draft saved");
            form_page(headers, StatusCode::OK, |token| {
                pages::render_saved(campaign, &form, expires_on, token)
            })
        }
        Err(status) if status.code() == Code::InvalidArgument || rate_limited(&status) => {
            let mut errors = field_errors(&status);
            if errors.is_empty() {
                errors.push(FieldError::new("", status.message()));
            }
            render(headers, Shown::Save, campaign, &form, &errors)
        }
        Err(status) => Err(GatewayError::from_status(NOMINATION, status)),
    }
}

/// `GET /drafts/{token}`: the saved answers, at the first question still to answer (or Check your
/// answers when none is).
pub async fn resume(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return expired();
    }
    let draft = match clients
        .nomination
        .clone()
        .get_draft(GetDraftRequest {
            draft_token: token.clone(),
        })
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == Code::NotFound => return expired(),
        Err(status) => return Err(GatewayError::from_status(NOMINATION, status)),
    };
    let campaign = clients.campaign(&draft.campaign_slug).await?;
    let mut form = NominationForm::from_draft(draft.answers.unwrap_or_default(), &token);
    if form.campaign_id.is_empty() {
        form.campaign_id = campaign.id.clone();
    }
    let shown = Page::first_unanswered(&form, &campaign).map_or(Shown::Check, Shown::Page);
    render(&headers, shown, &campaign, &form, &[])
}

fn expired() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This link has expired or does not work",
        &[
            "Links to saved nominations work for a limited time, and only until the nomination is sent.",
            "If you sent your nomination, you do not need to do anything else.",
        ],
        Some(("/", "Start a new nomination")),
    )
}
