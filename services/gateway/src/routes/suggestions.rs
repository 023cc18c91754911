//! The suggestion box ("you said, we did"): staff post a suggestion to their trust, named or
//! anonymously; each trust's public board shows the suggestions its admins approved, what became
//! of them and why, and how many support each. Supporting is a form of its own (an email address,
//! counted once), reached by a plain link: nothing needs JavaScript.
//!
//! The trusts offered are those of the nomination service's campaigns (it owns the trusts); the
//! survey-feedback service keeps the suggestions and decides everything about them.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::survey::v1::{
    BoardSuggestion, ListBoardRequest, PostSuggestionRequest, SupportSuggestionRequest,
};

use super::forms::{self, PublicForm, PublicPost, Sender, form_page};
use crate::clients::{Clients, SURVEY_FEEDBACK};
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::page::{self, see_other, segment};
use crate::templates;

/// The suggestion form's inputs, in page order.
const SUGGESTION_FIELDS: [&str; 3] = ["text", "name", "email"];

/// A trust a suggestion can be made to.
#[derive(Debug, Clone, Serialize)]
pub struct TrustChoice {
    pub code: String,
    pub name: String,
    /// Its board's path.
    pub path: String,
}

/// Every trust of every campaign, by name.
async fn trusts(clients: &Clients) -> Result<Vec<TrustChoice>> {
    let mut by_code = BTreeMap::new();
    for campaign in clients.campaigns().await? {
        for trust in campaign.trusts {
            by_code
                .entry(trust.code.to_ascii_uppercase())
                .or_insert(trust.name);
        }
    }
    let mut trusts: Vec<TrustChoice> = by_code
        .into_iter()
        .map(|(code, name)| TrustChoice {
            path: board_path(&code),
            code,
            name,
        })
        .collect();
    trusts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(trusts)
}

/// The trust `code` names (any case), or `NotFound`.
async fn trust(clients: &Clients, code: &str) -> Result<TrustChoice> {
    trusts(clients)
        .await?
        .into_iter()
        .find(|t| t.code.eq_ignore_ascii_case(code.trim()))
        .ok_or(GatewayError::NotFound)
}

fn board_path(trust: &str) -> String {
    format!("/suggestions/{}", segment(trust))
}

/// `GET /suggestions`: which trust.
pub async fn index(State(clients): State<Clients>) -> Result<Response> {
    page::render(
        "suggestions/index.html",
        context! {
            page_title => "Suggestion boards",
            trusts => trusts(&clients).await?,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BoardQuery {
    /// What was just done, to say so at the top: `posted`, `supported`, `already`.
    done: String,
}

/// A suggestion as the board shows it.
#[derive(Debug, Serialize)]
struct BoardEntry {
    id: String,
    text: String,
    /// The start of the text, naming the suggestion to a screen reader beside its support link.
    short_text: String,
    status: &'static str,
    status_class: &'static str,
    public_reason: String,
    supporters: u64,
    posted_on: String,
    support_path: String,
}

/// The words and the NHS.UK tag colour of a status.
pub fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "under_consideration" => ("Under consideration", "nhsuk-tag--yellow"),
        "done" => ("We did it", "nhsuk-tag--green"),
        "not_this_time" => ("Not this time", "nhsuk-tag--grey"),
        _ => ("Received", "nhsuk-tag--blue"),
    }
}

fn entry(trust: &str, s: &BoardSuggestion) -> BoardEntry {
    let (status, status_class) = status_label(&s.status);
    BoardEntry {
        id: s.suggestion_id.clone(),
        text: s.text.clone(),
        short_text: short(&s.text),
        status,
        status_class,
        public_reason: s.public_reason.clone(),
        supporters: s.supporters,
        posted_on: valued_platform::uk_time::of(s.posted_on.as_ref())
            .map(valued_platform::uk_time::day)
            .unwrap_or_default(),
        support_path: format!(
            "{}/{}/support",
            board_path(trust),
            segment(&s.suggestion_id)
        ),
    }
}

/// The first words of `text`, up to 60 characters, with an ellipsis when there is more.
fn short(text: &str) -> String {
    const MAX: usize = 60;
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX && line.len() == text.len() {
        return line.to_owned();
    }
    let cut: String = line.chars().take(MAX).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > MAX / 2 => cut[..space].to_owned(),
        _ => cut,
    };
    format!("{cut}…")
}

/// `GET /suggestions/{trust}`: the public board.
pub async fn board(
    State(clients): State<Clients>,
    Path(code): Path<String>,
    Query(query): Query<BoardQuery>,
) -> Result<Response> {
    let trust = trust(&clients, &code).await?;
    let suggestions = on_the_board(&clients, &trust).await?;
    let entries: Vec<BoardEntry> = suggestions.iter().map(|s| entry(&trust.code, s)).collect();
    let done = match query.done.as_str() {
        "supported" => Some("Thank you for your support"),
        "already" => Some("You have already supported that suggestion"),
        _ => None,
    };
    page::render(
        "suggestions/board.html",
        context! {
            page_title => format!("Suggestions – {}", trust.name),
            trust => trust,
            new_path => format!("{}/new", board_path(&trust.code)),
            suggestions => entries,
            done => done,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SuggestionForm {
    text: String,
    name: String,
    email: String,
}

impl PublicPost for SuggestionForm {
    const NAME: &'static str = "suggestion form";
}

/// `GET /suggestions/{trust}/new`
pub async fn show_new(
    State(clients): State<Clients>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let trust = trust(&clients, &code).await?;
    suggestion_page(&headers, &trust, &SuggestionForm::default(), &[])
}

/// `POST /suggestions/{trust}/new`
pub async fn post(
    State(clients): State<Clients>,
    Path(code): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<SuggestionForm>,
) -> Result<Response> {
    let trust = trust(&clients, &code).await?;
    let posted_path = format!("{}/posted", board_path(&trust.code));
    if sender == Sender::Bot {
        return see_other(&posted_path);
    }
    let posted = clients
        .feedback
        .clone()
        .post_suggestion(PostSuggestionRequest {
            trust_code: trust.code.clone(),
            text: form.text.clone(),
            name: form.name.clone(),
            email: form.email.clone(),
        })
        .await;
    match posted {
        Ok(_) => see_other(&posted_path),
        Err(status) => {
            let errors = refusal(status)?;
            suggestion_page(&headers, &trust, &form, &errors)
        }
    }
}

/// What a refused public call shows on its form: field errors, or the rate limit's message.
fn refusal(status: tonic::Status) -> Result<Vec<FieldError>> {
    if status.code() == Code::InvalidArgument {
        let errors = valued_platform::grpc::field_errors(&status);
        if !errors.is_empty() {
            return Ok(errors);
        }
    }
    if rate_limited(&status) {
        return Ok(vec![FieldError::new("", status.message())]);
    }
    Err(GatewayError::from_status(SURVEY_FEEDBACK, status))
}

fn suggestion_page(
    headers: &HeaderMap,
    trust: &TrustChoice,
    form: &SuggestionForm,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, &SUGGESTION_FIELDS, |_| None);
    form_page(headers, forms::status_for(errors), |csrf_token| {
        templates::render(
            "suggestions/new.html",
            context! {
                page_title => format!("Make a suggestion to {}", trust.name),
                trust => trust,
                action => format!("{}/new", board_path(&trust.code)),
                board_path => board_path(&trust.code),
                text => &form.text,
                name => &form.name,
                email => &form.email,
                csrf_token => csrf_token,
                errors => summary,
                error => forms::by_field(&summary),
            },
        )
    })
}

/// `GET /suggestions/{trust}/posted`: the confirmation.
pub async fn posted(State(clients): State<Clients>, Path(code): Path<String>) -> Result<Response> {
    let trust = trust(&clients, &code).await?;
    page::render(
        "suggestions/posted.html",
        context! {
            page_title => "Thank you for your suggestion",
            trust => trust,
            board_path => board_path(&trust.code),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SupportForm {
    email: String,
}

impl PublicPost for SupportForm {
    const NAME: &'static str = "support form";
}

/// `GET /suggestions/{trust}/{id}/support`: the suggestion and the one question.
pub async fn show_support(
    State(clients): State<Clients>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let (trust, suggestion) = on_board(&clients, &code, &id).await?;
    support_page(&headers, &trust, &suggestion, "", &[])
}

/// `POST /suggestions/{trust}/{id}/support`
pub async fn support(
    State(clients): State<Clients>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<SupportForm>,
) -> Result<Response> {
    let (trust, suggestion) = on_board(&clients, &code, &id).await?;
    let board = board_path(&trust.code);
    if sender == Sender::Bot {
        return see_other(&format!("{board}?done=supported"));
    }
    let supported = clients
        .feedback
        .clone()
        .support_suggestion(SupportSuggestionRequest {
            suggestion_id: suggestion.suggestion_id.clone(),
            email: form.email.clone(),
        })
        .await;
    match supported {
        Ok(response) => {
            let done = if response.into_inner().supported {
                "supported"
            } else {
                "already"
            };
            see_other(&format!("{board}?done={done}"))
        }
        Err(status) if status.code() == Code::NotFound => Err(GatewayError::NotFound),
        Err(status) => {
            let errors = refusal(status)?;
            support_page(&headers, &trust, &suggestion, &form.email, &errors)
        }
    }
}

/// The trust and its board's suggestion `id`, or `NotFound`.
async fn on_board(
    clients: &Clients,
    code: &str,
    id: &str,
) -> Result<(TrustChoice, BoardSuggestion)> {
    if !forms::is_token(id) {
        return Err(GatewayError::NotFound);
    }
    let trust = trust(clients, code).await?;
    let suggestion = on_the_board(clients, &trust)
        .await?
        .into_iter()
        .find(|s| s.suggestion_id == id)
        .ok_or(GatewayError::NotFound)?;
    Ok((trust, suggestion))
}

/// The trust's board, newest first.
async fn on_the_board(clients: &Clients, trust: &TrustChoice) -> Result<Vec<BoardSuggestion>> {
    Ok(clients
        .feedback
        .clone()
        .list_board(ListBoardRequest {
            trust_code: trust.code.clone(),
        })
        .await
        .map_err(|status| GatewayError::from_status(SURVEY_FEEDBACK, status))?
        .into_inner()
        .suggestions)
}

fn support_page(
    headers: &HeaderMap,
    trust: &TrustChoice,
    suggestion: &BoardSuggestion,
    email: &str,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, &["email"], |_| None);
    let shown = entry(&trust.code, suggestion);
    form_page(headers, forms::status_for(errors), |csrf_token| {
        templates::render(
            "suggestions/support.html",
            context! {
                page_title => "Support this suggestion",
                trust => trust,
                suggestion => shown,
                board_path => board_path(&trust.code),
                email => email,
                csrf_token => csrf_token,
                errors => summary,
                error => forms::by_field(&summary),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_suggestion_is_named_by_its_first_words() {
        assert_eq!(short("More lockers"), "More lockers");
        assert_eq!(short("More lockers\nby the lodge"), "More lockers…");
        let long = "A water fountain by the porters' lodge, and another by the loading bay please";
        assert_eq!(
            short(long),
            "A water fountain by the porters' lodge, and another by the…"
        );
    }
}
