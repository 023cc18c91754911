//! "Tell us your story": a campaign's story form, saved to finish later or sent for moderation,
//! and the teller's withdrawal page.
//!
//! - `/campaigns/{slug}/story` asks whether they work in the NHS and in which role, their story,
//!   their consent for each purpose (publish on the campaign page, share with the press, share with
//!   their MP, contact them) and, only with consent to contact, a phone number; and their email,
//!   for the links. "Save and come back later" keeps a draft and emails a link to it
//!   (`/stories/drafts/{token}`); "Send my story" sends it for moderation and emails a link to
//!   withdraw it (`/stories/withdraw/{token}`: opening it shows a button, as mail scanners open
//!   links).
//! - A saved phone number never comes back to the page: the form says one is saved, and leaving
//!   the field empty keeps it.
//!
//! The survey-feedback service checks every answer and names each bad one.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::Campaign;
use valued_proto::survey::v1::{
    GetStoryDraftRequest, ListPublishedStoriesRequest, SaveStoryDraftRequest, StoryAnswers,
    StoryCampaign, SubmitStoryRequest, WithdrawStoryRequest,
};

use super::forms::{self, PublicForm, PublicPost, Sender, form_page, message_page, status_for};
use crate::clients::{Clients, SURVEY_FEEDBACK};
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::page::{see_other, segment};
use crate::templates;

/// The form's inputs, in page order (the error summary links to them in this order).
const FIELDS: &[&str] = &[
    "works_in_nhs",
    "nhs_role",
    "story",
    "consent_publish",
    "consent_contact",
    "phone",
    "email",
];

/// A story's word limit, as the service holds it (the page only says so).
const MAX_WORDS: u32 = 500;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StoryForm {
    draft_token: String,
    works_in_nhs: String,
    nhs_role: String,
    story: String,
    consent_publish: String,
    consent_press: String,
    consent_mp: String,
    consent_contact: String,
    phone: String,
    email: String,
    /// "save" to come back later, anything else sends the story.
    action: String,
}

impl PublicPost for StoryForm {
    const NAME: &'static str = "story form";
}

impl StoryForm {
    fn answers(&self) -> StoryAnswers {
        StoryAnswers {
            works_in_nhs: self.works_in_nhs.clone(),
            nhs_role: self.nhs_role.clone(),
            story: self.story.clone(),
            consent_publish: self.consent_publish == "yes",
            consent_press: self.consent_press == "yes",
            consent_mp: self.consent_mp == "yes",
            consent_contact: self.consent_contact == "yes",
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }

    fn from_draft(token: &str, answers: StoryAnswers) -> Self {
        let yes = |given: bool| if given { "yes" } else { "" }.to_owned();
        Self {
            draft_token: token.to_owned(),
            works_in_nhs: answers.works_in_nhs,
            nhs_role: answers.nhs_role,
            story: answers.story,
            consent_publish: yes(answers.consent_publish),
            consent_press: yes(answers.consent_press),
            consent_mp: yes(answers.consent_mp),
            consent_contact: yes(answers.consent_contact),
            phone: String::new(),
            email: answers.email,
            action: String::new(),
        }
    }
}

/// The campaign as the survey-feedback service keeps it with a story.
fn described(campaign: &Campaign) -> StoryCampaign {
    StoryCampaign {
        campaign_id: campaign.id.clone(),
        slug: campaign.slug.clone(),
        name: campaign.name.clone(),
        scope: campaign.scope.clone(),
        scope_code: campaign.scope_code.clone(),
    }
}

fn story_path(slug: &str) -> String {
    format!("/campaigns/{}/story", segment(slug))
}

/// `GET /campaigns/{slug}/story`
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    form(&headers, &campaign, &StoryForm::default(), false, &[])
}

/// `GET /stories/drafts/{token}`: the form as it was saved.
pub async fn resume(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let draft = if forms::is_token(&token) {
        forms::found(
            SURVEY_FEEDBACK,
            clients
                .stories
                .clone()
                .get_story_draft(GetStoryDraftRequest {
                    draft_token: token.clone(),
                })
                .await,
        )?
    } else {
        None
    };
    let Some(draft) = draft else {
        return message_page(
            StatusCode::NOT_FOUND,
            "This link has expired",
            &[
                "Saved stories are kept for 30 days after they were last saved. You can start again.",
            ],
            Some(("/", "See the campaigns")),
        );
    };
    let slug = draft.campaign.map(|c| c.slug).unwrap_or_default();
    let campaign = clients.campaign(&slug).await?;
    let answers = draft.answers.unwrap_or_default();
    let form_answers = StoryForm::from_draft(&token, answers);
    form(&headers, &campaign, &form_answers, draft.has_phone, &[])
}

fn form(
    headers: &HeaderMap,
    campaign: &Campaign,
    form: &StoryForm,
    has_phone: bool,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, FIELDS, |_| None);
    form_page(headers, status_for(errors), |csrf_token| {
        templates::render(
            "story/form.html",
            context! {
                page_title => "Tell us your story",
                campaign_name => campaign.name,
                action => story_path(&campaign.slug),
                form => form,
                has_phone => has_phone,
                max_words => MAX_WORDS,
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })
}

/// `POST /campaigns/{slug}/story`: save the draft, or send the story.
pub async fn submit(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    PublicForm {
        form: answers,
        sender,
    }: PublicForm<StoryForm>,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let saving = answers.action == "save";
    if sender == Sender::Bot {
        return sent_page(&campaign, saving, true);
    }
    let token = if forms::is_token(&answers.draft_token) {
        answers.draft_token.clone()
    } else {
        String::new()
    };
    let outcome = if saving {
        clients
            .stories
            .clone()
            .save_story_draft(SaveStoryDraftRequest {
                draft_token: token.clone(),
                campaign: Some(described(&campaign)),
                answers: Some(answers.answers()),
                email_link: !answers.email.trim().is_empty(),
            })
            .await
            .map(|_| ())
    } else {
        clients
            .stories
            .clone()
            .submit_story(SubmitStoryRequest {
                draft_token: token.clone(),
                campaign: Some(described(&campaign)),
                answers: Some(answers.answers()),
            })
            .await
            .map(|_| ())
    };
    match outcome {
        Ok(()) if saving => sent_page(&campaign, true, !answers.email.trim().is_empty()),
        Ok(()) => see_other(&format!("{}/sent", story_path(&campaign.slug))),
        Err(status) => {
            let errors = match status.code() {
                Code::InvalidArgument => valued_platform::grpc::field_errors(&status),
                _ if rate_limited(&status) => vec![FieldError::new("", status.message())],
                _ => return Err(GatewayError::from_status(SURVEY_FEEDBACK, status)),
            };
            let has_phone = !token.is_empty() && answers.phone.trim().is_empty();
            // What was typed stays in the form, but never a phone number the service refused
            // to echo back: it is typed again.
            let kept = StoryForm {
                action: String::new(),
                ..answers
            };
            form(&headers, &campaign, &kept, has_phone, &errors)
        }
    }
}

/// "Your story is saved" (with the link emailed when an address was given), or, for a story sent,
/// the confirmation.
fn sent_page(campaign: &Campaign, saved: bool, emailed: bool) -> Result<Response> {
    if saved {
        let paragraphs: &[&str] = if emailed {
            &[
                "We have emailed you a link to come back to your story. It works for 30 days.",
                "We have not sent your story yet.",
            ]
        } else {
            &[
                "Your answers are kept for 30 days, but without an email address we cannot send you a link to them.",
                "Go back and give your email address to get a link.",
            ]
        };
        return message_page(
            StatusCode::OK,
            "Your story is saved",
            paragraphs,
            Some((
                &format!("/campaigns/{}", segment(&campaign.slug)),
                "Back to the campaign",
            )),
        );
    }
    message_page(
        StatusCode::OK,
        "Thank you for telling your story",
        &[
            "We have emailed you a link you can use to withdraw it at any time.",
            "Our team reads every story. If you agreed, we will publish it on the campaign page.",
        ],
        Some((
            &format!("/campaigns/{}", segment(&campaign.slug)),
            "Back to the campaign",
        )),
    )
}

/// `GET /campaigns/{slug}/story/sent`
pub async fn sent(State(clients): State<Clients>, Path(slug): Path<String>) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    sent_page(&campaign, false, true)
}

/// `GET /stories/withdraw/{token}`: a button, since opening the link must not act by itself.
pub async fn show_withdraw(Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    if !forms::is_token(&token) {
        return Err(GatewayError::NotFound);
    }
    forms::button_page(
        &headers,
        "story/withdraw.html",
        "Withdraw your story",
        &format!("/stories/withdraw/{}", segment(&token)),
    )
}

/// `POST /stories/withdraw/{token}`
pub async fn withdraw(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    PublicForm { form: _, sender }: PublicForm<forms::Button>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return Err(GatewayError::NotFound);
    }
    if sender == Sender::Person {
        let withdrawn = clients
            .stories
            .clone()
            .withdraw_story(WithdrawStoryRequest {
                withdraw_token: token,
            })
            .await;
        if forms::found(SURVEY_FEEDBACK, withdrawn)?.is_none() {
            return message_page(
                StatusCode::NOT_FOUND,
                "This story has already been withdrawn",
                &["There is nothing more to do."],
                Some(("/", "See the campaigns")),
            );
        }
    }
    message_page(
        StatusCode::OK,
        "Your story has been withdrawn",
        &["It is no longer on the campaign page, and we have deleted it and your phone number."],
        Some(("/", "See the campaigns")),
    )
}

/// The campaign's published stories, for its page: approved, and only those whose tellers agreed
/// to publication (the service leaves out the rest). The page still shows without them if the
/// call fails.
pub(crate) async fn published(clients: &Clients, campaign: &Campaign) -> Vec<minijinja::Value> {
    let listed = clients
        .stories
        .clone()
        .list_published_stories(ListPublishedStoriesRequest {
            campaign: Some(described(campaign)),
        })
        .await;
    match listed {
        Ok(response) => response
            .into_inner()
            .stories
            .into_iter()
            .map(|s| context! { role => s.nhs_role, story => s.story })
            .collect(),
        Err(status) => {
            tracing::warn!(%status, "cannot list the campaign's stories");
            Vec::new()
        }
    }
}
