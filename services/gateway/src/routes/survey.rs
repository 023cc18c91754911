//! Answering a staff survey, anonymously.
//!
//! - `/surveys/{slug}`: an open-link survey, answered by anyone with the link.
//! - `/surveys/invitation/{code}`: an invitation-only survey, by the single-use code in an
//!   invitation email's link, or typed from a printed card at `/surveys/invitation` (staff without
//!   a work inbox: porters, domestics and caterers often have none).
//!
//! The whole survey is one page: nothing is kept between pages, so nothing about a half-finished
//! answer is stored anywhere. The survey-feedback service decides everything (what is asked,
//! what is valid, once per invitation) and stores the answers with nothing that identifies the
//! person; these pages ask and show. The thank-you page names no survey and no code.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::survey::v1::get_survey_to_answer_request::By;
use valued_proto::survey::v1::{
    Answer, GetSurveyToAnswerRequest, QuestionKind, SubmitResponseRequest, SurveyToAnswer,
};

use super::forms::{self, PublicForm, PublicPost, Sender, form_page, status_for};
use crate::clients::{Clients, SURVEY_FEEDBACK};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, see_other, segment};
use crate::templates;

/// What a respondent picks to say nothing about one of the groups results are broken down by.
const PREFER_NOT_TO_SAY: &str = "prefer-not-to-say";

/// The fields of the answer form: `q-<question id>` per question (repeated for multiple choice),
/// and the groups (`trust_code`, `site_code`, `staff_group`, `band`), read as pairs in order.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct AnswerForm(Vec<(String, String)>);

impl PublicPost for AnswerForm {
    const NAME: &'static str = "survey answers";
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

impl PublicPost for CodeForm {
    const NAME: &'static str = "invitation code form";
}

/// How a survey was reached: its open link or an invitation code.
#[derive(Debug, Clone)]
enum Link {
    Open(String),
    Invitation(String),
}

impl Link {
    fn action(&self) -> String {
        match self {
            Self::Open(slug) => format!("/surveys/{}", segment(slug)),
            Self::Invitation(code) => format!("/surveys/invitation/{}", segment(code)),
        }
    }

    fn request(&self) -> GetSurveyToAnswerRequest {
        GetSurveyToAnswerRequest {
            by: Some(match self {
                Self::Open(slug) => By::Slug(slug.clone()),
                Self::Invitation(code) => By::InvitationCode(code.clone()),
            }),
        }
    }
}

/// The survey a link opens, or the page to show instead (an unknown, used or closed link).
async fn load(
    clients: &Clients,
    link: &Link,
) -> Result<std::result::Result<SurveyToAnswer, Response>> {
    let answer = clients
        .survey
        .clone()
        .get_survey_to_answer(link.request())
        .await;
    match answer {
        Ok(response) => response
            .into_inner()
            .survey
            .map(Ok)
            .ok_or_else(|| GatewayError::Internal("survey-feedback sent no survey".into())),
        Err(status) => Ok(Err(unavailable(link, &status)?)),
    }
}

/// The page for a link the service will not open: not found (unknown, used up or a draft), or
/// closed.
fn unavailable(link: &Link, status: &tonic::Status) -> Result<Response> {
    match status.code() {
        Code::NotFound | Code::InvalidArgument => match link {
            Link::Open(_) => forms::message_page(
                StatusCode::NOT_FOUND,
                "This survey link does not work",
                &[
                    "The survey may not have started yet, or the link may be mistyped.",
                    "If you were given an invitation code, enter it instead.",
                ],
                Some(("/surveys/invitation", "Enter an invitation code")),
            ),
            Link::Invitation(_) => forms::message_page(
                StatusCode::NOT_FOUND,
                "This invitation code does not work",
                &[
                    "Check the code and try again. Each code can be used once: if you have already answered with it, your answers were received.",
                ],
                Some(("/surveys/invitation", "Enter an invitation code")),
            ),
        },
        Code::FailedPrecondition => forms::message_page(
            StatusCode::GONE,
            "This survey has closed",
            &["It is no longer taking answers. Thank you for wanting to take part."],
            None,
        ),
        Code::AlreadyExists => forms::message_page(
            StatusCode::CONFLICT,
            "This invitation has already been used",
            &[
                "Each invitation code answers the survey once, and answers were already sent with this one.",
            ],
            None,
        ),
        _ => Err(GatewayError::from_status(SURVEY_FEEDBACK, status.clone())),
    }
}

/// `GET /surveys/{slug}`
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    show_link(&clients, &headers, Link::Open(slug)).await
}

/// `GET /surveys/invitation/{code}`
pub async fn show_invitation(
    State(clients): State<Clients>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    show_link(&clients, &headers, Link::Invitation(code)).await
}

async fn show_link(clients: &Clients, headers: &HeaderMap, link: Link) -> Result<Response> {
    if !plausible(&link) {
        return unavailable(&link, &tonic::Status::not_found("link"));
    }
    match load(clients, &link).await? {
        Ok(survey) => answer_page(headers, &link, &survey, &Answers::default(), &[]),
        Err(page) => Ok(page),
    }
}

/// `POST /surveys/{slug}`
pub async fn submit(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: PublicForm<AnswerForm>,
) -> Result<Response> {
    submit_link(&clients, &headers, Link::Open(slug), form).await
}

/// `POST /surveys/invitation/{code}`
pub async fn submit_invitation(
    State(clients): State<Clients>,
    Path(code): Path<String>,
    headers: HeaderMap,
    form: PublicForm<AnswerForm>,
) -> Result<Response> {
    submit_link(&clients, &headers, Link::Invitation(code), form).await
}

async fn submit_link(
    clients: &Clients,
    headers: &HeaderMap,
    link: Link,
    PublicForm { form, sender }: PublicForm<AnswerForm>,
) -> Result<Response> {
    if !plausible(&link) {
        return unavailable(&link, &tonic::Status::not_found("link"));
    }
    if sender == Sender::Bot {
        return see_other(THANK_YOU);
    }
    let survey = match load(clients, &link).await? {
        Ok(survey) => survey,
        Err(page) => return Ok(page),
    };
    let answers = Answers::read(&form.0);
    let request = answers.request(&survey, &link);
    match clients.survey.clone().submit_response(request).await {
        Ok(_) => see_other(THANK_YOU),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            if errors.is_empty() {
                return Err(GatewayError::from_status(SURVEY_FEEDBACK, status));
            }
            answer_page(headers, &link, &survey, &answers, &errors)
        }
        Err(status) => unavailable(&link, &status),
    }
}

const THANK_YOU: &str = "/surveys/thank-you";

/// `GET /surveys/thank-you`
pub async fn thank_you() -> Result<Response> {
    page::render(
        "survey/thanks.html",
        context! { page_title => "Thank you: your answers have been sent" },
    )
}

/// `GET /surveys/invitation`: where a printed code is typed in.
pub async fn show_code(headers: HeaderMap) -> Result<Response> {
    code_page(&headers, &CodeForm::default(), None)
}

/// `POST /surveys/invitation`
pub async fn enter_code(
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<CodeForm>,
) -> Result<Response> {
    if sender == Sender::Bot {
        return see_other(THANK_YOU);
    }
    match normalise_code(&form.code) {
        Some(code) => see_other(&format!("/surveys/invitation/{}", segment(&code))),
        None => {
            let message = if form.code.trim().is_empty() {
                "Enter the code printed on your invitation"
            } else {
                "Enter the code as it is printed, for example K7QM-3XWP-9DHT-R2VC"
            };
            code_page(&headers, &form, Some(message))
        }
    }
}

fn code_page(headers: &HeaderMap, form: &CodeForm, error: Option<&str>) -> Result<Response> {
    let errors: Vec<forms::SummaryError> = error
        .map(|message| forms::SummaryError {
            field: "code".into(),
            message: message.into(),
        })
        .into_iter()
        .collect();
    form_page(
        headers,
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        |csrf_token| {
            templates::render(
                "survey/code.html",
                context! {
                    page_title => "Enter your invitation code",
                    csrf_token => csrf_token,
                    code => form.code,
                    errors => errors,
                    error => error,
                },
            )
        },
    )
}

/// A typed code as the links carry it: letters and digits in upper case, in groups of four joined
/// by dashes, whatever spacing or dashes were typed. `None` when it cannot be a code.
fn normalise_code(typed: &str) -> Option<String> {
    let plain: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if plain.len() < 8 || plain.len() > 64 || !plain.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let groups: Vec<String> = plain
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    Some(groups.join("-"))
}

/// Whether a link's slug or code is worth asking the service about.
fn plausible(link: &Link) -> bool {
    match link {
        Link::Open(slug) | Link::Invitation(slug) => forms::is_token(slug),
    }
}

/// What the respondent sent, by field name, in the order sent.
#[derive(Debug, Default)]
struct Answers(HashMap<String, Vec<String>>);

impl Answers {
    fn read(pairs: &[(String, String)]) -> Self {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            if name == "csrf_token" || name == forms::HONEYPOT {
                continue;
            }
            fields.entry(name.clone()).or_default().push(value.clone());
        }
        Self(fields)
    }

    fn first(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
            .unwrap_or_default()
    }

    fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// A group as the service takes it: empty for "prefer not to say" or not answered.
    fn group(&self, name: &str) -> String {
        match self.first(name).trim() {
            PREFER_NOT_TO_SAY => String::new(),
            value => value.to_owned(),
        }
    }

    fn request(&self, survey: &SurveyToAnswer, link: &Link) -> SubmitResponseRequest {
        let answers = survey
            .sections
            .iter()
            .flat_map(|section| &section.questions)
            .filter_map(|question| {
                let name = field_name(&question.id);
                let mut answer = Answer {
                    question_id: question.id.clone(),
                    ..Answer::default()
                };
                match QuestionKind::try_from(question.kind).unwrap_or_default() {
                    QuestionKind::Agreement | QuestionKind::Recommend => {
                        let value = self.first(&name).trim();
                        if value.is_empty() {
                            return None;
                        }
                        // A value that is not a number is sent as one the service refuses, so the
                        // respondent hears about it rather than losing it silently.
                        answer.value = Some(value.parse().unwrap_or(u32::MAX));
                    }
                    QuestionKind::SingleChoice => {
                        let value = self.first(&name).trim();
                        if value.is_empty() {
                            return None;
                        }
                        answer.option_ids = vec![value.to_owned()];
                    }
                    QuestionKind::MultipleChoice => {
                        answer.option_ids = self.all(&name).to_vec();
                        if answer.option_ids.is_empty() {
                            return None;
                        }
                    }
                    QuestionKind::FreeText | QuestionKind::Unspecified => {
                        let text = self.first(&name).trim();
                        if text.is_empty() {
                            return None;
                        }
                        answer.text = text.to_owned();
                    }
                }
                Some(answer)
            })
            .collect();
        SubmitResponseRequest {
            slug: match link {
                Link::Open(slug) => slug.clone(),
                Link::Invitation(_) => survey.slug.clone(),
            },
            invitation_code: match link {
                Link::Open(_) => String::new(),
                Link::Invitation(code) => code.clone(),
            },
            answers,
            trust_code: self.group("trust_code"),
            site_code: self.group("site_code"),
            staff_group: self.group("staff_group"),
            band: self.group("band"),
        }
    }
}

/// The form field (and input id) of a question.
fn field_name(question_id: &str) -> String {
    format!("q-{question_id}")
}

#[derive(Serialize)]
struct Item {
    value: String,
    label: String,
}

impl Item {
    fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

const AGREEMENT: [(&str, &str); 5] = [
    ("5", "Strongly agree"),
    ("4", "Agree"),
    ("3", "Neither agree nor disagree"),
    ("2", "Disagree"),
    ("1", "Strongly disagree"),
];

/// The survey as respondents will see it, for its builder: nothing on it can be sent.
pub fn preview_page(headers: &HeaderMap, survey: &SurveyToAnswer, back: &str) -> Result<Response> {
    render_answer_page(headers, None, Some(back), survey, &Answers::default(), &[])
}

fn answer_page(
    headers: &HeaderMap,
    link: &Link,
    survey: &SurveyToAnswer,
    answers: &Answers,
    errors: &[FieldError],
) -> Result<Response> {
    render_answer_page(headers, Some(link), None, survey, answers, errors)
}

/// The answer form posting to `link`, or (with `preview_of`, the builder's page) a preview.
fn render_answer_page(
    headers: &HeaderMap,
    link: Option<&Link>,
    preview_of: Option<&str>,
    survey: &SurveyToAnswer,
    answers: &Answers,
    errors: &[FieldError],
) -> Result<Response> {
    // The service names a question's errors `answers.<id>`; the page's input for it is `q-<id>`.
    let errors: Vec<FieldError> = errors
        .iter()
        .map(|e| match e.field.strip_prefix("answers.") {
            Some(id) => FieldError::new(&field_name(id), e.message.clone()),
            None => e.clone(),
        })
        .collect();
    let mut fields: Vec<String> = ["trust_code", "site_code", "staff_group", "band"]
        .map(str::to_owned)
        .to_vec();
    fields.extend(
        survey
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .map(|q| field_name(&q.id)),
    );
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let summary = forms::summary(&errors, &field_refs, |_| None);
    let field_errors = forms::by_field(&summary);

    let sections: Vec<minijinja::Value> = survey
        .sections
        .iter()
        .map(|section| {
            let questions: Vec<minijinja::Value> = section
                .questions
                .iter()
                .map(|question| {
                    let name = field_name(&question.id);
                    let kind = QuestionKind::try_from(question.kind).unwrap_or_default();
                    let items: Vec<Item> = match kind {
                        QuestionKind::Agreement => AGREEMENT
                            .iter()
                            .map(|(value, label)| Item::new(*value, *label))
                            .collect(),
                        QuestionKind::Recommend => (0..=10)
                            .rev()
                            .map(|n| {
                                let label = match n {
                                    10 => "10 (extremely likely)".to_owned(),
                                    0 => "0 (not at all likely)".to_owned(),
                                    n => n.to_string(),
                                };
                                Item::new(n.to_string(), label)
                            })
                            .collect(),
                        QuestionKind::SingleChoice | QuestionKind::MultipleChoice => question
                            .options
                            .iter()
                            .map(|o| Item::new(o.id.clone(), o.label.clone()))
                            .collect(),
                        _ => Vec::new(),
                    };
                    let legend = if question.required {
                        question.text.clone()
                    } else {
                        format!("{} (optional)", question.text)
                    };
                    context! {
                        name => name,
                        kind => kind_name(kind),
                        legend => legend,
                        hint => (!question.hint.is_empty()).then_some(question.hint.as_str()),
                        items => items,
                        value => answers.first(&name),
                        values => answers.all(&name),
                        error => field_errors.get(&name),
                    }
                })
                .collect();
            context! {
                title => section.title,
                description => section.description,
                questions => questions,
            }
        })
        .collect();

    let with_prefer_not = |items: Vec<Item>| {
        let mut items = items;
        items.push(Item::new(PREFER_NOT_TO_SAY, "Prefer not to say"));
        items
    };
    let trusts = with_prefer_not(
        survey
            .trusts
            .iter()
            .map(|t| Item::new(t.code.clone(), t.label.clone()))
            .collect(),
    );
    let sites = with_prefer_not(
        survey
            .sites
            .iter()
            .map(|s| {
                let trust = survey
                    .trusts
                    .iter()
                    .chain(survey.fixed_trust.iter())
                    .find(|t| t.code == s.trust_code)
                    .map(|t| t.label.as_str());
                let label = match trust {
                    Some(trust) if survey.fixed_trust.is_none() => {
                        format!("{} ({trust})", s.label)
                    }
                    _ => s.label.clone(),
                };
                Item::new(s.code.clone(), label)
            })
            .collect(),
    );
    let staff_groups = with_prefer_not(
        survey
            .staff_groups
            .iter()
            .map(|g| Item::new(g.code.clone(), g.label.clone()))
            .collect(),
    );
    let bands = with_prefer_not(
        survey
            .bands
            .iter()
            .map(|b| Item::new(b.code.clone(), b.label.clone()))
            .collect(),
    );
    let select = |items: &[Item]| {
        vec![context! {
            options => items.iter().map(|i| context! { value => i.value, label => i.label }).collect::<Vec<_>>(),
        }]
    };

    form_page(headers, status_for(&errors), |csrf_token| {
        templates::render(
            "survey/answer.html",
            context! {
                page_title => survey.title,
                csrf_token => csrf_token,
                action => link.map(Link::action),
                preview_of => preview_of,
                introduction => survey.introduction,
                closes_on => valued_platform::uk_time::when_of(survey.closes_at.as_ref()),
                minimum_group_size => survey.minimum_group_size,
                fixed_trust => survey.fixed_trust.as_ref().map(|t| t.label.as_str()),
                ask_trust => !survey.trusts.is_empty(),
                trusts => select(&trusts),
                ask_site => !survey.sites.is_empty(),
                sites => select(&sites),
                ask_staff_group => !survey.staff_groups.is_empty(),
                staff_groups => staff_groups,
                ask_band => !survey.bands.is_empty(),
                bands => select(&bands),
                trust_code => answers.first("trust_code"),
                site_code => answers.first("site_code"),
                staff_group => answers.first("staff_group"),
                band => answers.first("band"),
                sections => sections,
                errors => summary,
                field_errors => field_errors,
            },
        )
    })
}

fn kind_name(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Agreement => "agreement",
        QuestionKind::SingleChoice => "single",
        QuestionKind::MultipleChoice => "multiple",
        QuestionKind::Recommend => "recommend",
        QuestionKind::FreeText | QuestionKind::Unspecified => "text",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_read_however_they_are_spaced() {
        assert_eq!(
            normalise_code(" k7qm 3xwp-9dht r2vc ").as_deref(),
            Some("K7QM-3XWP-9DHT-R2VC")
        );
        assert_eq!(normalise_code("K7QM3XWP").as_deref(), Some("K7QM-3XWP"));
        assert_eq!(normalise_code(""), None);
        assert_eq!(normalise_code("K7QM"), None);
        assert_eq!(normalise_code("K7QM-3XWP-9DHT-R2V!"), None);
    }

    #[test]
    fn prefer_not_to_say_is_sent_as_no_group() {
        let answers = Answers::read(&[
            ("staff_group".into(), PREFER_NOT_TO_SAY.into()),
            ("band".into(), "band-3".into()),
        ]);
        assert_eq!(answers.group("staff_group"), "");
        assert_eq!(answers.group("band"), "band-3");
        assert_eq!(answers.group("trust_code"), "");
    }
}
