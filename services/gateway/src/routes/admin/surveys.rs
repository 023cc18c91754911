//! Staff surveys for trust, region and national admins: build one (sections, questions, the
//! "feeling valued" set), preview it, publish it, hand out its link, email invitations or print
//! codes with QR codes, close it, screen its free-text answers and read its results.
//!
//! The survey-feedback service decides who may do what to which survey and checks every field;
//! these pages ask and show what it says.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::uk_time::{self, TypedTime};
use valued_proto::nomination::v1::WhoAmIRequest;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;

use super::chart::{self, Bar};
use super::notifications::through_grant_copy;
use super::signed::{AdminError, AdminResult, Signed, check_csrf, csv_download};
use crate::clients::{SURVEY_FEEDBACK, Traced};
use crate::routes::forms::{self, form_page};
use crate::routes::page::{see_other, segment};
use crate::templates;

const SURVEYS_PATH: &str = "/admin/surveys";

fn survey_path(id: &str) -> String {
    format!("{SURVEYS_PATH}/{}", segment(id))
}

impl Signed {
    /// Calls the survey-feedback service with `message` as the signed-in admin; its refusal of the
    /// request itself (bad fields, a locked survey) is given back for the page to show.
    pub(super) async fn survey_answer<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            SurveyServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> Result<R, tonic::Status> {
        let client = self.clients.survey.clone();
        let ask = || call(client.clone(), self.signed(message.clone()));
        // Refused just after signing in: the service's copy of the grants may not have caught up.
        if self.just_signed_in() {
            through_grant_copy(ask).await
        } else {
            ask().await.map(tonic::Response::into_inner)
        }
    }

    /// As [`Self::survey_answer`], any refusal shown as the page.
    async fn survey<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            SurveyServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> AdminResult<R> {
        self.survey_answer(message, call)
            .await
            .map_err(|status| self.survey_failed(status))
    }

    fn survey_failed(&self, status: tonic::Status) -> AdminError {
        if status.code() == Code::InvalidArgument {
            AdminError::Refused(status.message().to_owned())
        } else {
            self.failed_at(SURVEY_FEEDBACK, status)
        }
    }

    async fn load_survey(&self, id: &str) -> AdminResult<pb::Survey> {
        self.survey(
            pb::GetSurveyRequest {
                survey_id: id.to_owned(),
            },
            async |mut c, r| c.get_survey(r).await,
        )
        .await?
        .survey
        .ok_or_else(|| AdminError::Refused("The survey-feedback service sent no survey".into()))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => "Survey created as a draft. Add questions, then preview and publish it.",
        "saved" => "Saved.",
        "published" => "Published. Its questions and anonymity settings can no longer change.",
        "closed" => "Closed. Results are ready, and no more answers are taken.",
        "invited" => "Invitations are being emailed.",
        _ => return None,
    })
}

/// A scope the admin may create a survey for, as the create form offers it.
#[derive(Debug, Serialize)]
struct ScopeChoice {
    value: String,
    label: String,
}

/// The create form, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CreateForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    /// `trust:<code>`, `region:<code>`, `national`, or `trust`/`region` with `scope_code` typed.
    scope: String,
    scope_code: String,
    title: String,
    /// "feeling-valued" to start from the standard set.
    starting_set: String,
}

/// `GET /admin/surveys`
pub async fn list(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let form = CreateForm {
        starting_set: "feeling-valued".into(),
        ..CreateForm::default()
    };
    list_page(&signed, &headers, &form, &[], done_message(&query.done)).await
}

async fn list_page(
    signed: &Signed,
    headers: &HeaderMap,
    form: &CreateForm,
    errors: &[FieldError],
    done: Option<&str>,
) -> AdminResult<Response> {
    let me = signed
        .nomination()
        .who_am_i(signed.signed(WhoAmIRequest {}))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner();
    let platform_admin = me.grants.iter().any(|g| g.role == "platform_admin");
    let mut scopes: Vec<ScopeChoice> = me
        .grants
        .iter()
        .filter_map(|g| match g.role.as_str() {
            "trust_admin" => Some(ScopeChoice {
                value: format!("trust:{}", g.scope),
                label: format!("Trust {}", g.scope),
            }),
            "region_admin" => Some(ScopeChoice {
                value: format!("region:{}", g.scope),
                label: format!("Region {}", g.scope),
            }),
            _ => None,
        })
        .collect();
    if platform_admin {
        scopes.extend([
            ScopeChoice {
                value: "national".into(),
                label: "National: every trust".into(),
            },
            ScopeChoice {
                value: "trust".into(),
                label: "A trust (type its ODS code below)".into(),
            },
            ScopeChoice {
                value: "region".into(),
                label: "A region (type its code below)".into(),
            },
        ]);
    }
    if scopes.is_empty() {
        return Err(AdminError::Denied);
    }
    let surveys = signed
        .survey(pb::ListSurveysRequest {}, async |mut c, r| {
            c.list_surveys(r).await
        })
        .await?
        .surveys;
    let surveys: Vec<minijinja::Value> = surveys
        .iter()
        .map(|s| {
            context! {
                title => s.title,
                href => survey_path(&s.id),
                scope => scope_label(s.scope, &s.scope_code),
                status => status_name(s.status),
                closes_on => uk_time::when_of(s.closes_at.as_ref()),
                responses => (s.status == pb::SurveyStatus::Closed as i32).then_some(s.responses),
            }
        })
        .collect();
    let summary = forms::summary(
        errors,
        &["scope", "scope_code", "title", "starting_set"],
        |_| None,
    );
    let messages = forms::by_field(&summary);
    let scope_items: Vec<minijinja::Value> = scopes
        .iter()
        .map(|s| context! { value => s.value, label => s.label })
        .collect();
    Ok(form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/surveys.html",
                context! {
                    page_title => "Staff surveys",
                    csrf_token => csrf_token,
                    surveys => surveys,
                    scopes => scope_items,
                    platform_admin => platform_admin,
                    form => form,
                    errors => summary,
                    messages => messages,
                    done => done,
                },
            )
        },
    )?)
}

/// `POST /admin/surveys`
pub async fn create(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, SURVEYS_PATH)?;
    let (scope, code) = match form.scope.split_once(':') {
        Some(("trust", code)) => (pb::Scope::Trust, code.to_owned()),
        Some(("region", code)) => (pb::Scope::Region, code.to_owned()),
        _ => match form.scope.as_str() {
            "national" => (pb::Scope::National, String::new()),
            "trust" => (pb::Scope::Trust, form.scope_code.trim().to_owned()),
            "region" => (pb::Scope::Region, form.scope_code.trim().to_owned()),
            _ => (pb::Scope::Unspecified, String::new()),
        },
    };
    let mut errors = Vec::new();
    if scope == pb::Scope::Unspecified {
        errors.push(FieldError::new("scope", "Choose who the survey is for"));
    }
    if !errors.is_empty() {
        return list_page(&signed, &headers, &form, &errors, None).await;
    }
    let request = pb::CreateSurveyRequest {
        scope: scope as i32,
        scope_code: code,
        title: form.title.trim().to_owned(),
        starting_set: if form.starting_set == "feeling-valued" {
            pb::StartingSet::FeelingValued as i32
        } else {
            pb::StartingSet::Empty as i32
        },
    };
    match signed
        .survey_answer(request, async |mut c, r| c.create_survey(r).await)
        .await
    {
        Ok(created) => {
            let id = created.survey.map(|s| s.id).unwrap_or_default();
            see_other(&format!("{}?done=created", survey_path(&id))).map_err(AdminError::from)
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors: Vec<FieldError> = valued_platform::grpc::field_errors(&status)
                .into_iter()
                .map(|e| {
                    if e.field == "scope_code" && !matches!(form.scope.as_str(), "trust" | "region")
                    {
                        FieldError::new("scope", e.message)
                    } else {
                        e
                    }
                })
                .collect();
            if errors.is_empty() {
                return Err(signed.survey_failed(status));
            }
            list_page(&signed, &headers, &form, &errors, None).await
        }
        Err(status) => Err(signed.survey_failed(status)),
    }
}

/// The settings form, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SettingsForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    title: String,
    introduction: String,
    /// "open-link" or "invitation".
    distribution: String,
    closes_at: String,
    /// "yes" when asked.
    ask_staff_group: String,
    ask_band: String,
    /// One trust per line: `CODE, Name`.
    trusts: String,
    /// One site per line: `TRUST CODE, SITE CODE, Name`.
    sites: String,
    minimum_group_size: String,
}

impl SettingsForm {
    fn of(survey: &pb::Survey) -> Self {
        let demographics = survey.demographics.clone().unwrap_or_default();
        Self {
            csrf_token: String::new(),
            title: survey.title.clone(),
            introduction: survey.introduction.clone(),
            distribution: if survey.distribution == pb::Distribution::Invitation as i32 {
                "invitation".into()
            } else {
                "open-link".into()
            },
            closes_at: uk_time::of(survey.closes_at.as_ref())
                .map(uk_time::input)
                .unwrap_or_default(),
            ask_staff_group: yes(demographics.ask_staff_group),
            ask_band: yes(demographics.ask_band),
            trusts: demographics
                .trusts
                .iter()
                .map(|t| format!("{}, {}", t.code, t.label))
                .collect::<Vec<_>>()
                .join("\n"),
            sites: demographics
                .sites
                .iter()
                .map(|s| format!("{}, {}, {}", s.trust_code, s.code, s.label))
                .collect::<Vec<_>>()
                .join("\n"),
            minimum_group_size: survey
                .anonymity
                .as_ref()
                .map(|a| a.minimum_group_size)
                .filter(|n| *n > 0)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }

    /// The request, or the fields this page itself cannot read.
    fn request(&self, survey_id: &str) -> Result<pb::UpdateSurveyRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let closes_at = if self.closes_at.trim().is_empty() {
            None
        } else {
            match uk_time::parse_input(&self.closes_at) {
                Ok(at) => Some(prost_types::Timestamp {
                    seconds: at.timestamp(),
                    nanos: 0,
                }),
                Err(TypedTime::NotATime) => {
                    errors.push(FieldError::new(
                        "closes_at",
                        "Enter when the survey closes, as a date and time",
                    ));
                    None
                }
                Err(change) => {
                    errors.push(FieldError::new("closes_at", change.to_string()));
                    None
                }
            }
        };
        let trusts = lines(&self.trusts, 2, "trusts", &mut errors)
            .into_iter()
            .map(|parts| pb::Group {
                code: parts[0].clone(),
                label: parts[1].clone(),
            })
            .collect();
        let sites = lines(&self.sites, 3, "sites", &mut errors)
            .into_iter()
            .map(|parts| pb::SiteGroup {
                trust_code: parts[0].clone(),
                code: parts[1].clone(),
                label: parts[2].clone(),
            })
            .collect();
        let minimum_group_size = match self.minimum_group_size.trim() {
            "" => 0,
            typed => typed.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "minimum_group_size",
                    "Enter the smallest group shown as a whole number, such as 11",
                ));
                0
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(pb::UpdateSurveyRequest {
            survey_id: survey_id.to_owned(),
            title: self.title.trim().to_owned(),
            introduction: self.introduction.trim().to_owned(),
            distribution: if self.distribution == "invitation" {
                pb::Distribution::Invitation as i32
            } else {
                pb::Distribution::OpenLink as i32
            },
            closes_at,
            demographics: Some(pb::Demographics {
                trusts,
                sites,
                ask_staff_group: self.ask_staff_group == "yes",
                ask_band: self.ask_band == "yes",
            }),
            anonymity: Some(pb::Anonymity { minimum_group_size }),
        })
    }
}

fn yes(on: bool) -> String {
    if on { "yes".into() } else { String::new() }
}

/// Lines of `fields` comma-separated parts (the last part keeps any further commas); a line with
/// fewer is named in `errors` as `<name>` with its line number.
fn lines(typed: &str, fields: usize, name: &str, errors: &mut Vec<FieldError>) -> Vec<Vec<String>> {
    let mut read = Vec::new();
    for (number, line) in typed.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<String> = line
            .splitn(fields, ',')
            .map(|p| p.trim().to_owned())
            .collect();
        if parts.len() < fields || parts.iter().any(String::is_empty) {
            let example = if fields == 2 {
                "RXX, Example Hospitals NHS Trust"
            } else {
                "RXX, RXX01, Example General Hospital"
            };
            errors.push(FieldError::new(
                name,
                format!("Line {} should look like \"{example}\"", number + 1),
            ));
        } else {
            read.push(parts);
        }
    }
    read
}

/// A question form (adding to a section), as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct QuestionForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    section_id: String,
    /// "agreement", "single", "multiple", "recommend" or "text".
    kind: String,
    text: String,
    hint: String,
    /// "yes" when an answer is required.
    required: String,
    /// One option per line (choice questions).
    options: String,
}

impl QuestionForm {
    fn input(&self) -> pb::QuestionInput {
        let kind = match self.kind.as_str() {
            "agreement" => pb::QuestionKind::Agreement,
            "single" => pb::QuestionKind::SingleChoice,
            "multiple" => pb::QuestionKind::MultipleChoice,
            "recommend" => pb::QuestionKind::Recommend,
            "text" => pb::QuestionKind::FreeText,
            _ => pb::QuestionKind::Unspecified,
        };
        let options = if matches!(
            kind,
            pb::QuestionKind::SingleChoice | pb::QuestionKind::MultipleChoice
        ) {
            self.options
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|label| pb::Option {
                    id: String::new(),
                    label: label.to_owned(),
                })
                .collect()
        } else {
            Vec::new()
        };
        pb::QuestionInput {
            kind: kind as i32,
            text: self.text.trim().to_owned(),
            hint: self.hint.trim().to_owned(),
            required: self.required == "yes",
            options,
        }
    }
}

/// A section form, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SectionForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    title: String,
    description: String,
}

/// A button's form: the CSRF token and what it acts on.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ButtonForm {
    csrf_token: String,
    section_id: String,
    question_id: String,
    answer_id: String,
    /// For screening: "approve" or "hide".
    decision: String,
    /// Where to come back to (a question's screening list).
    question: String,
}

/// Which of the survey page's forms had errors, as typed, so the page shows them where typed.
#[derive(Default)]
struct Typed {
    settings: Option<SettingsForm>,
    section: Option<SectionForm>,
    question: Option<QuestionForm>,
    errors: Vec<FieldError>,
}

/// `GET /admin/surveys/{id}`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let survey = signed.load_survey(&id).await?;
    survey_page(
        &headers,
        &survey,
        Typed::default(),
        done_message(&query.done),
    )
}

fn survey_page(
    headers: &HeaderMap,
    survey: &pb::Survey,
    typed: Typed,
    done: Option<&str>,
) -> AdminResult<Response> {
    let settings = typed.settings.unwrap_or_else(|| SettingsForm::of(survey));
    let section_form = typed.section.unwrap_or_default();
    let question_form = typed.question.unwrap_or_else(|| QuestionForm {
        kind: "agreement".into(),
        required: "yes".into(),
        ..QuestionForm::default()
    });
    let summary = forms::summary(
        &typed.errors,
        &[
            "title",
            "introduction",
            "distribution",
            "closes_at",
            "ask_staff_group",
            "trusts",
            "sites",
            "minimum_group_size",
            "section-title",
            "question-kind",
            "question-text",
            "question-options",
        ],
        |_| None,
    );
    let messages = forms::by_field(&summary);
    let draft = survey.status == pb::SurveyStatus::Draft as i32;
    let published = survey.status == pb::SurveyStatus::Published as i32;
    let closed = survey.status == pb::SurveyStatus::Closed as i32;
    let path = survey_path(&survey.id);
    let sections: Vec<minijinja::Value> = survey
        .sections
        .iter()
        .map(|section| {
            context! {
                id => section.id,
                title => section.title,
                description => section.description,
                questions => section.questions.iter().map(|q| context! {
                    id => q.id,
                    text => q.text,
                    kind => kind_label(q.kind),
                    required => q.required,
                    standard => !q.standard_key.is_empty(),
                    options => q.options.iter().map(|o| o.label.as_str()).collect::<Vec<_>>(),
                    free_text => q.kind == pb::QuestionKind::FreeText as i32,
                }).collect::<Vec<_>>(),
                // The question form shows its errors under the section it was typed for.
                typed_here => question_form.section_id == section.id,
            }
        })
        .collect();
    let open_link = (survey.distribution == pb::Distribution::OpenLink as i32)
        .then(|| format!("/surveys/{}", segment(&survey.slug)));
    Ok(form_page(
        headers,
        forms::status_for(&typed.errors),
        |csrf_token| {
            templates::render(
                "admin/survey.html",
                context! {
                    page_title => survey.title,
                    csrf_token => csrf_token,
                    path => path,
                    status => status_name(survey.status),
                    draft => draft,
                    published => published,
                    closed => closed,
                    scope => scope_label(survey.scope, &survey.scope_code),
                    distribution => if survey.distribution == pb::Distribution::Invitation as i32 { "Single-use invitations" } else { "Open link" },
                    closes_on => uk_time::when_of(survey.closes_at.as_ref()),
                    closed_on => uk_time::when_of(survey.closed_at.as_ref()),
                    open_link => open_link,
                    invitations_issued => survey.invitations_issued,
                    invitation_only => survey.distribution == pb::Distribution::Invitation as i32,
                    minimum_group_size => survey.minimum_group_size,
                    sections => sections,
                    settings => settings,
                    section_form => section_form,
                    question_form => question_form,
                    errors => summary,
                    messages => messages,
                    done => done,
                },
            )
        },
    )?)
}

/// What a builder form's call answered: back to the page on success, the page with the service's
/// field errors (and the form as typed) on INVALID_ARGUMENT.
async fn after_edit<R>(
    signed: &Signed,
    headers: &HeaderMap,
    id: &str,
    answer: Result<R, tonic::Status>,
    typed: impl FnOnce(Vec<FieldError>) -> Typed,
) -> AdminResult<Response> {
    match answer {
        Ok(_) => see_other(&format!("{}?done=saved", survey_path(id))).map_err(AdminError::from),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            if errors.is_empty() {
                return Err(signed.survey_failed(status));
            }
            let survey = signed.load_survey(id).await?;
            survey_page(headers, &survey, typed(errors), None)
        }
        Err(status) => Err(signed.survey_failed(status)),
    }
}

/// `POST /admin/surveys/{id}/settings`
pub async fn save_settings(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<SettingsForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    let request = match form.request(&id) {
        Ok(request) => request,
        Err(errors) => {
            let survey = signed.load_survey(&id).await?;
            return survey_page(
                &headers,
                &survey,
                Typed {
                    settings: Some(form),
                    errors,
                    ..Typed::default()
                },
                None,
            );
        }
    };
    let answer = signed
        .survey_answer(request, async |mut c, r| c.update_survey(r).await)
        .await;
    after_edit(&signed, &headers, &id, answer, |errors| Typed {
        settings: Some(form),
        errors,
        ..Typed::default()
    })
    .await
}

/// `POST /admin/surveys/{id}/sections`
pub async fn add_section(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<SectionForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    let request = pb::AddSectionRequest {
        survey_id: id.clone(),
        title: form.title.trim().to_owned(),
        description: form.description.trim().to_owned(),
    };
    let answer = signed
        .survey_answer(request, async |mut c, r| c.add_section(r).await)
        .await;
    after_edit(&signed, &headers, &id, answer, |errors| Typed {
        errors: prefixed("section-", errors),
        section: Some(form),
        ..Typed::default()
    })
    .await
}

/// `POST /admin/surveys/{id}/questions`
pub async fn add_question(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<QuestionForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    let request = pb::AddQuestionRequest {
        survey_id: id.clone(),
        section_id: form.section_id.clone(),
        question: Some(form.input()),
    };
    let answer = signed
        .survey_answer(request, async |mut c, r| c.add_question(r).await)
        .await;
    after_edit(&signed, &headers, &id, answer, |errors| Typed {
        errors: prefixed("question-", errors),
        question: Some(form),
        ..Typed::default()
    })
    .await
}

/// The service's field names as this page's input ids (`question.text` → `question-text`,
/// `options[2]` → `question-options`).
fn prefixed(prefix: &str, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let field = e
                .field
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .split('[')
                .next()
                .unwrap_or_default()
                .to_owned();
            FieldError::new(&format!("{prefix}{field}"), e.message)
        })
        .collect()
}

/// `POST /admin/surveys/{id}/questions/remove`
pub async fn remove_question(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    signed
        .survey(
            pb::RemoveQuestionRequest {
                survey_id: id.clone(),
                question_id: form.question_id,
            },
            async |mut c, r| c.remove_question(r).await,
        )
        .await?;
    see_other(&format!("{}?done=saved", survey_path(&id))).map_err(AdminError::from)
}

/// `POST /admin/surveys/{id}/sections/remove`
pub async fn remove_section(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    signed
        .survey(
            pb::RemoveSectionRequest {
                survey_id: id.clone(),
                section_id: form.section_id,
            },
            async |mut c, r| c.remove_section(r).await,
        )
        .await?;
    see_other(&format!("{}?done=saved", survey_path(&id))).map_err(AdminError::from)
}

/// `POST /admin/surveys/{id}/feeling-valued`
pub async fn add_feeling_valued(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    signed
        .survey(
            pb::AddFeelingValuedSetRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.add_feeling_valued_set(r).await,
        )
        .await?;
    see_other(&format!("{}?done=saved", survey_path(&id))).map_err(AdminError::from)
}

/// `POST /admin/surveys/{id}/publish`
pub async fn publish(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    signed
        .survey(
            pb::PublishSurveyRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.publish_survey(r).await,
        )
        .await?;
    see_other(&format!("{}?done=published", survey_path(&id))).map_err(AdminError::from)
}

/// `POST /admin/surveys/{id}/close`
pub async fn close(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    signed
        .survey(
            pb::CloseSurveyRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.close_survey(r).await,
        )
        .await?;
    see_other(&format!("{}?done=closed", survey_path(&id))).map_err(AdminError::from)
}

/// `GET /admin/surveys/{id}/preview`: the survey exactly as respondents see it, with a form that
/// sends nothing.
pub async fn preview(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AdminResult<Response> {
    let to_answer = signed
        .survey(
            pb::GetSurveyRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.get_survey(r).await,
        )
        .await?
        .preview
        .ok_or_else(|| AdminError::Refused("The survey-feedback service sent no preview".into()))?;
    Ok(crate::routes::survey::preview_page(
        &headers,
        &to_answer,
        &survey_path(&id),
    )?)
}

/// The invitations forms, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct InviteForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    /// One address per line (or separated by commas or semicolons, as pasted from a mail client).
    emails: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CodesForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    count: String,
}

/// `POST /admin/surveys/{id}/invitations/email`
pub async fn invite(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    let emails: Vec<String> = form
        .emails
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if emails.is_empty() {
        let survey = signed.load_survey(&id).await?;
        return survey_page(
            &headers,
            &survey,
            Typed {
                errors: vec![FieldError::new(
                    "emails",
                    "Enter the email addresses to invite, one per line",
                )],
                ..Typed::default()
            },
            None,
        );
    }
    let answer = signed
        .survey_answer(
            pb::InviteByEmailRequest {
                survey_id: id.clone(),
                emails: emails.clone(),
            },
            async |mut c, r| c.invite_by_email(r).await,
        )
        .await;
    match answer {
        Ok(_) => see_other(&format!("{}?done=invited", survey_path(&id))).map_err(AdminError::from),
        Err(status) if status.code() == Code::InvalidArgument => {
            // "emails[i]" names the line: say which address it was.
            let errors: Vec<FieldError> = valued_platform::grpc::field_errors(&status)
                .into_iter()
                .map(|e| {
                    let line = e
                        .field
                        .strip_prefix("emails[")
                        .and_then(|rest| rest.strip_suffix(']'))
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| emails.get(i));
                    match line {
                        Some(address) => {
                            FieldError::new("emails", format!("{address}: {}", e.message))
                        }
                        None => FieldError::new("emails", e.message),
                    }
                })
                .collect();
            if errors.is_empty() {
                return Err(signed.survey_failed(status));
            }
            let survey = signed.load_survey(&id).await?;
            survey_page(
                &headers,
                &survey,
                Typed {
                    errors,
                    ..Typed::default()
                },
                None,
            )
        }
        Err(status) => Err(signed.survey_failed(status)),
    }
}

/// `POST /admin/surveys/{id}/invitations/codes`: the codes, this once, laid out to print with a QR
/// code each.
pub async fn codes(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CodesForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &survey_path(&id))?;
    let Ok(count) = form.count.trim().parse::<u32>() else {
        let survey = signed.load_survey(&id).await?;
        return survey_page(
            &headers,
            &survey,
            Typed {
                errors: vec![FieldError::new(
                    "count",
                    "Enter how many codes to print as a whole number, such as 50",
                )],
                ..Typed::default()
            },
            None,
        );
    };
    let survey = signed.load_survey(&id).await?;
    let generated = signed
        .survey(
            pb::GenerateInvitationCodesRequest {
                survey_id: id.clone(),
                count,
            },
            async |mut c, r| c.generate_invitation_codes(r).await,
        )
        .await?;
    let public_url = signed.public_url();
    let cards: Vec<minijinja::Value> = generated
        .codes
        .iter()
        .map(|code| {
            let link = format!("{public_url}{}", code.path);
            context! {
                code => code.code,
                link => link,
                qr => minijinja::Value::from_safe_string(qr_svg(&link)),
            }
        })
        .collect();
    let mut response = crate::routes::page::render(
        "admin/survey_codes.html",
        context! {
            page_title => format!("Invitation codes: {}", survey.title),
            path => survey_path(&id),
            cards => cards,
            enter_at => format!("{public_url}/surveys/invitation"),
        },
    )?;
    // The codes are shown once: never kept by a browser's cache or history.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// A QR code of `text` as an SVG image, drawn on the server (no script, no external service).
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build()
            // The code's text is on the card beside it; the image itself says what it is.
            .replacen(
                "<svg ",
                "<svg role=\"img\" aria-label=\"QR code of the survey link\" ",
                1,
            )
            .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1),
        Err(_) => String::new(),
    }
}

/// `GET /admin/surveys/{id}/results`
pub async fn results(signed: Signed, Path(id): Path<String>) -> AdminResult<Response> {
    let results = signed
        .survey(
            pb::GetResultsRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.get_results(r).await,
        )
        .await?;
    let questions: Vec<minijinja::Value> = results
        .questions
        .iter()
        .map(|q| question_results(&id, q))
        .collect();
    Ok(crate::routes::page::render(
        "admin/survey_results.html",
        context! {
            page_title => format!("Results: {}", results.title),
            title => results.title,
            path => survey_path(&id),
            csv => format!("{}/results.csv", survey_path(&id)),
            closed_on => uk_time::when_of(results.closed_at.as_ref()),
            responses => results.responses,
            total_withheld => results.total_withheld,
            minimum_group_size => results.minimum_group_size,
            questions => questions,
        },
    )?)
}

/// One question's results: a chart of the total's answers (an SVG drawn here, with the same
/// figures in a table beside it) and a table per breakdown.
fn question_results(survey_id: &str, q: &pb::QuestionResult) -> minijinja::Value {
    let kind = pb::QuestionKind::try_from(q.kind).unwrap_or_default();
    let total = q
        .cells
        .iter()
        .find(|c| c.dimension == pb::Dimension::Total as i32);
    let chart = total
        .filter(|t| !t.withheld && !t.counts.is_empty())
        .map(|t| bar_chart(&q.text, &t.counts, t.responses));
    let dimensions = [
        (pb::Dimension::Trust, "By organisation"),
        (pb::Dimension::Site, "By site"),
        (pb::Dimension::StaffGroup, "By staff group"),
        (pb::Dimension::Band, "By pay band"),
    ];
    let score_label = match kind {
        pb::QuestionKind::Agreement => Some("Agree or strongly agree"),
        pb::QuestionKind::Recommend => Some("Net recommend score"),
        _ => None,
    };
    let breakdowns: Vec<minijinja::Value> = dimensions
        .iter()
        .filter_map(|(dimension, caption)| {
            let cells: Vec<minijinja::Value> = q
                .cells
                .iter()
                .filter(|c| c.dimension == *dimension as i32)
                .map(|c| cell_view(c, kind))
                .collect();
            (!cells.is_empty()).then(|| context! { caption => caption, cells => cells })
        })
        .collect();
    context! {
        id => q.question_id,
        text => q.text,
        section => q.section_title,
        standard => !q.standard_key.is_empty(),
        free_text => kind == pb::QuestionKind::FreeText,
        screening => format!("{}/screening?question={}", survey_path(survey_id), segment(&q.question_id)),
        score_label => score_label,
        total => total.map(|t| cell_view(t, kind)),
        options => total.map(|t| t.counts.iter().map(|o| context! {
            label => o.label,
            count => o.count,
            share => share(o.count, t.responses),
        }).collect::<Vec<_>>()),
        chart => chart,
        breakdowns => breakdowns,
        comments => total.map(|t| t.comments.clone()).unwrap_or_default(),
    }
}

fn cell_view(cell: &pb::Cell, kind: pb::QuestionKind) -> minijinja::Value {
    let label = if cell.label.is_empty() {
        "Prefer not to say".to_owned()
    } else {
        cell.label.clone()
    };
    context! {
        label => label,
        withheld => cell.withheld,
        reason => cell.withheld_reason,
        responses => cell.responses,
        score => match kind {
            pb::QuestionKind::Agreement => Some(format!("{:.0}%", cell.score)),
            pb::QuestionKind::Recommend => Some(format!("{:+.0}", cell.score)),
            _ => None,
        },
        comments => cell.comments,
    }
}

fn share(count: u64, of: u64) -> String {
    if of == 0 {
        "0%".into()
    } else {
        format!("{:.0}%", count as f64 * 100.0 / of as f64)
    }
}

/// The chart of a question's answers: one bar per answer, as long as its share of the answers.
fn bar_chart(title: &str, counts: &[pb::OptionCount], responses: u64) -> minijinja::Value {
    let bars: Vec<Bar> = counts
        .iter()
        .map(|option| Bar {
            label: option.label.clone(),
            length: option.count,
            figure: share(option.count, responses),
        })
        .collect();
    chart::bar_chart(
        title,
        &format!("share of {responses} answers"),
        &bars,
        responses,
    )
}

/// `GET /admin/surveys/{id}/results.csv`
pub async fn results_csv(signed: Signed, Path(id): Path<String>) -> AdminResult<Response> {
    let export = signed
        .survey(
            pb::ExportResultsCsvRequest {
                survey_id: id.clone(),
            },
            async |mut c, r| c.export_results_csv(r).await,
        )
        .await?;
    let name = export.filename.trim_end_matches(".csv").to_owned();
    Ok(csv_download(&name, "results", export.csv.into_bytes())?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScreeningQuery {
    question: String,
    /// "flagged" to show only flagged answers.
    show: String,
}

/// `GET /admin/surveys/{id}/screening?question=`
pub async fn screening(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<ScreeningQuery>,
) -> AdminResult<Response> {
    let survey = signed.load_survey(&id).await?;
    let question = survey
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .find(|q| q.id == query.question)
        .ok_or_else(|| AdminError::Refused("That question is not in this survey".into()))?;
    let answers = signed
        .survey(
            pb::ListFreeTextAnswersRequest {
                survey_id: id.clone(),
                question_id: question.id.clone(),
                status: pb::ScreeningStatus::Unspecified as i32,
                flagged_only: query.show == "flagged",
            },
            async |mut c, r| c.list_free_text_answers(r).await,
        )
        .await?
        .answers;
    let answers: Vec<minijinja::Value> = answers
        .iter()
        .map(|a| {
            context! {
                id => a.id,
                text => a.text,
                status => match pb::ScreeningStatus::try_from(a.status).unwrap_or_default() {
                    pb::ScreeningStatus::Approved => "Shown",
                    pb::ScreeningStatus::Hidden => "Hidden",
                    _ => "Not screened",
                },
                flags => a.flags.iter().map(|f| match pb::Flag::try_from(*f).unwrap_or_default() {
                    pb::Flag::Name => "May name someone",
                    pb::Flag::Phone => "Phone number",
                    pb::Flag::Email => "Email address",
                    pb::Flag::Unspecified => "Flagged",
                }).collect::<Vec<_>>(),
                flagged => a.flagged,
            }
        })
        .collect();
    Ok(form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/survey_screening.html",
            context! {
                page_title => format!("Screen answers: {}", question.text),
                csrf_token => csrf_token,
                path => survey_path(&id),
                question_id => question.id,
                flagged_only => query.show == "flagged",
                answers => answers,
            },
        )
    })?)
}

/// `POST /admin/surveys/{id}/screening`
pub async fn screen(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    let back = format!(
        "{}/screening?question={}",
        survey_path(&id),
        segment(&form.question)
    );
    check_csrf(&headers, &form.csrf_token, &back)?;
    let status = match form.decision.as_str() {
        "approve" => pb::ScreeningStatus::Approved,
        "hide" => pb::ScreeningStatus::Hidden,
        _ => {
            return Err(AdminError::Refused(
                "Choose to show or hide the answer".into(),
            ));
        }
    };
    signed
        .survey(
            pb::ScreenFreeTextAnswerRequest {
                survey_id: id.clone(),
                answer_id: form.answer_id,
                status: status as i32,
            },
            async |mut c, r| c.screen_free_text_answer(r).await,
        )
        .await?;
    see_other(&back).map_err(AdminError::from)
}

fn status_name(status: i32) -> &'static str {
    match pb::SurveyStatus::try_from(status).unwrap_or_default() {
        pb::SurveyStatus::Draft => "Draft",
        pb::SurveyStatus::Published => "Open",
        pb::SurveyStatus::Closed => "Closed",
        pb::SurveyStatus::Unspecified => "Unknown",
    }
}

fn scope_label(scope: i32, code: &str) -> String {
    match pb::Scope::try_from(scope).unwrap_or_default() {
        pb::Scope::Trust => format!("Trust {code}"),
        pb::Scope::Region => format!("Region {code}"),
        pb::Scope::National => "National".into(),
        pb::Scope::Unspecified => code.to_owned(),
    }
}

fn kind_label(kind: i32) -> &'static str {
    match pb::QuestionKind::try_from(kind).unwrap_or_default() {
        pb::QuestionKind::Agreement => "Agree or disagree (5 points)",
        pb::QuestionKind::SingleChoice => "Choose one",
        pb::QuestionKind::MultipleChoice => "Choose any",
        pb::QuestionKind::Recommend => "Would recommend (0 to 10)",
        pb::QuestionKind::FreeText => "Free text",
        pb::QuestionKind::Unspecified => "Unknown",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pasted_trust_and_site_lists_are_read_line_by_line() {
        let mut errors = Vec::new();
        let read = lines(
            "RXX, Example Trust, Hospitals\n\nRYY,Other Trust\nbad line",
            2,
            "trusts",
            &mut errors,
        );
        assert_eq!(
            read,
            vec![
                vec!["RXX".to_owned(), "Example Trust, Hospitals".to_owned()],
                vec!["RYY".to_owned(), "Other Trust".to_owned()],
            ]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "trusts");
        assert!(
            errors[0].message.starts_with("Line 4 "),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn the_chart_draws_one_bar_per_answer_with_its_share() {
        let counts = vec![
            pb::OptionCount {
                key: "5".into(),
                label: "Strongly agree".into(),
                count: 30,
            },
            pb::OptionCount {
                key: "1".into(),
                label: "Strongly <disagree>".into(),
                count: 10,
            },
        ];
        let svg = bar_chart("I feel valued", &counts, 40).to_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">75%<") && svg.contains(">25%<"), "{svg}");
        assert!(svg.contains("Strongly &lt;disagree&gt;"), "{svg}");
        assert!(svg.contains("role=\"img\""));
    }

    #[test]
    fn a_qr_code_is_an_svg_image_with_a_name() {
        let svg = qr_svg("https://valued.example/surveys/invitation/K7QM-3XWP");
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
        assert!(svg.contains("<path") || svg.contains("<rect"), "{svg}");
    }
}
