//! SurveyService over gRPC: converts requests into domain commands and results into messages,
//! and checks every admin caller against the survey's scope.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use valued_platform::auth::roles::{Admin, Admins, Role};
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, multi_line, single_line};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::SurveyInvitationRequested;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_server::SurveyService;

use crate::db::entities::{survey, survey_free_text};
use crate::db::queries::{self, CLOSED, DRAFT, PUBLISHED};
use crate::domain::answers::{AnswerInput, Sheet, SheetInput};
use crate::domain::bands::Band;
use crate::domain::definition::{
    self, Definition, Demographics, Group, Kind, QuestionInput, parse_code, parse_section,
};
use crate::domain::results::{csv, kind_to_pb};
use crate::domain::{StaffGroup, codes, flags, parse_survey_id};
use crate::error::Error;

pub const MAX_EMAILS: usize = 5_000;
pub const MAX_CODES: u32 = 2_000;

pub struct SurveyApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub minimum_group_size: u32,
    pub admins: Admins,
}

/// Every RPC an anonymous caller (a member of staff, through the gateway's pages) may make, with why.
/// Reviewed list: every other RPC needs a signed-in admin of the survey's scope.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.survey.v1.SurveyService/GetSurveyToAnswer",
        "staff open a published survey by its link or their invitation code; no counts, no admin data",
    ),
    (
        "/valued.survey.v1.SurveyService/SubmitResponse",
        "staff answer anonymously; nothing identifying is stored, an invitation answers once",
    ),
];

/// Whether `admin` runs surveys of this scope: a trust's its trust admins, a region's its region
/// admins, a national one platform admins only; platform admins any.
pub fn administers(admin: &Admin, scope: &str, code: &str) -> bool {
    admin.is_platform_admin()
        || match scope {
            "trust" => admin.holds(Role::TrustAdmin, code),
            "region" => admin.holds(Role::RegionAdmin, code),
            _ => false,
        }
}

/// Whether `admin` holds any role that runs surveys (platform, region or trust admin).
fn runs_some_surveys(admin: &Admin) -> bool {
    admin.is_platform_admin()
        || admin
            .grants
            .iter()
            .any(|g| matches!(g.role, Role::TrustAdmin | Role::RegionAdmin))
}

fn scope_name(scope: i32) -> Option<&'static str> {
    match pb::Scope::try_from(scope) {
        Ok(pb::Scope::Trust) => Some("trust"),
        Ok(pb::Scope::Region) => Some("region"),
        Ok(pb::Scope::National) => Some("national"),
        _ => None,
    }
}

fn scope_to_pb(scope: &str) -> pb::Scope {
    match scope {
        "trust" => pb::Scope::Trust,
        "region" => pb::Scope::Region,
        _ => pb::Scope::National,
    }
}

fn status_to_pb(status: &str) -> pb::SurveyStatus {
    match status {
        DRAFT => pb::SurveyStatus::Draft,
        PUBLISHED => pb::SurveyStatus::Published,
        _ => pb::SurveyStatus::Closed,
    }
}

fn distribution_to_pb(distribution: &str) -> pb::Distribution {
    match distribution {
        "invitation" => pb::Distribution::Invitation,
        _ => pb::Distribution::OpenLink,
    }
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn invalid(field: &str, message: &str) -> Status {
    Error::Invalid(vec![FieldError::new(field, message)]).into()
}

fn kind_from_pb(kind: i32) -> Option<Kind> {
    match pb::QuestionKind::try_from(kind) {
        Ok(pb::QuestionKind::Agreement) => Some(Kind::Agreement),
        Ok(pb::QuestionKind::SingleChoice) => Some(Kind::SingleChoice),
        Ok(pb::QuestionKind::MultipleChoice) => Some(Kind::MultipleChoice),
        Ok(pb::QuestionKind::Recommend) => Some(Kind::Recommend),
        Ok(pb::QuestionKind::FreeText) => Some(Kind::FreeText),
        _ => None,
    }
}

fn question_input(input: Option<pb::QuestionInput>) -> QuestionInput {
    let input = input.unwrap_or_default();
    QuestionInput {
        kind: kind_from_pb(input.kind),
        text: input.text,
        hint: input.hint,
        required: input.required,
        options: input.options.into_iter().map(|o| (o.id, o.label)).collect(),
    }
}

fn sections_to_pb(definition: &Definition) -> Vec<pb::Section> {
    definition
        .sections
        .iter()
        .map(|s| pb::Section {
            id: s.id.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            questions: s
                .questions
                .iter()
                .map(|q| pb::Question {
                    id: q.id.clone(),
                    kind: kind_to_pb(q.kind) as i32,
                    text: q.text.clone(),
                    hint: q.hint.clone(),
                    required: q.required,
                    options: q
                        .options
                        .iter()
                        .map(|o| pb::Option {
                            id: o.id.clone(),
                            label: o.label.clone(),
                        })
                        .collect(),
                    standard_key: q.standard_key.clone(),
                })
                .collect(),
        })
        .collect()
}

fn group_to_pb(g: &Group) -> pb::Group {
    pb::Group {
        code: g.code.clone(),
        label: g.label.clone(),
    }
}

fn free_text_to_pb(row: &survey_free_text::Model) -> pb::FreeTextAnswer {
    pb::FreeTextAnswer {
        id: row.id.to_string(),
        text: row.text.clone(),
        status: match row.status.as_str() {
            queries::APPROVED => pb::ScreeningStatus::Approved,
            queries::HIDDEN => pb::ScreeningStatus::Hidden,
            _ => pb::ScreeningStatus::Unscreened,
        } as i32,
        flags: row
            .flags
            .split(',')
            .filter_map(flags::Flag::parse)
            .map(|f| match f {
                flags::Flag::Name => pb::Flag::Name,
                flags::Flag::Phone => pb::Flag::Phone,
                flags::Flag::Email => pb::Flag::Email,
            } as i32)
            .collect(),
        flagged: serde_json::from_str(&row.flagged).unwrap_or_default(),
    }
}

impl SurveyApi {
    fn minimum(&self, model: &survey::Model) -> u32 {
        queries::effective_minimum(model, self.minimum_group_size)
    }

    fn survey_to_pb(&self, model: &survey::Model) -> Result<pb::Survey, Status> {
        let definition = queries::definition(model)?;
        let demographics = queries::demographics(model)?;
        Ok(pb::Survey {
            id: model.id.to_string(),
            scope: scope_to_pb(&model.scope) as i32,
            scope_code: model.scope_code.clone(),
            title: model.title.clone(),
            introduction: model.introduction.clone(),
            status: status_to_pb(&model.status) as i32,
            distribution: distribution_to_pb(&model.distribution) as i32,
            slug: model.slug.clone(),
            closes_at: model.closes_at.map(timestamp),
            demographics: Some(pb::Demographics {
                trusts: demographics.trusts.iter().map(group_to_pb).collect(),
                sites: demographics
                    .sites
                    .iter()
                    .map(|s| pb::SiteGroup {
                        trust_code: s.trust_code.clone(),
                        code: s.code.clone(),
                        label: s.label.clone(),
                    })
                    .collect(),
                ask_staff_group: demographics.ask_staff_group,
                ask_band: demographics.ask_band,
            }),
            anonymity: Some(pb::Anonymity {
                minimum_group_size: u32::try_from(model.minimum_group_size).unwrap_or(0),
            }),
            sections: sections_to_pb(&definition),
            published_at: model.published_at.map(timestamp),
            closed_at: model.closed_at.map(timestamp),
            invitations_issued: u64::try_from(model.invitations_issued).unwrap_or(0),
            minimum_group_size: self.minimum(model),
        })
    }

    fn to_answer(&self, model: &survey::Model) -> Result<pb::SurveyToAnswer, Status> {
        let definition = queries::definition(model)?;
        let demographics = queries::demographics(model)?;
        let trust_survey = model.scope == "trust";
        Ok(pb::SurveyToAnswer {
            slug: if model.distribution == "invitation" {
                String::new()
            } else {
                model.slug.clone()
            },
            title: model.title.clone(),
            introduction: model.introduction.clone(),
            distribution: distribution_to_pb(&model.distribution) as i32,
            closes_at: model.closes_at.map(timestamp),
            sections: sections_to_pb(&definition),
            fixed_trust: trust_survey.then(|| pb::Group {
                code: model.scope_code.clone(),
                label: model.scope_code.clone(),
            }),
            trusts: if trust_survey {
                Vec::new()
            } else {
                demographics.trusts.iter().map(group_to_pb).collect()
            },
            sites: demographics
                .sites
                .iter()
                .filter(|s| !trust_survey || s.trust_code == model.scope_code)
                .map(|s| pb::SiteGroup {
                    trust_code: s.trust_code.clone(),
                    code: s.code.clone(),
                    label: s.label.clone(),
                })
                .collect(),
            staff_groups: if demographics.ask_staff_group {
                StaffGroup::ALL
                    .iter()
                    .map(|g| pb::Group {
                        code: g.slug().to_owned(),
                        label: g.label().to_owned(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            bands: if demographics.ask_band {
                Band::ALL
                    .iter()
                    .map(|b| pb::Group {
                        code: b.slug().to_owned(),
                        label: b.label().to_owned(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            minimum_group_size: self.minimum(model),
        })
    }

    /// The survey `id` names, if the caller administers it: UNAUTHENTICATED without a valid ID
    /// token; PERMISSION_DENIED naming `what` otherwise, the same for a survey that does not exist.
    async fn survey_admin<T>(
        &self,
        request: &Request<T>,
        id: &str,
        what: &str,
    ) -> Result<survey::Model, Status> {
        let admin = self.admins.admin(request).await?;
        admin.require(runs_some_surveys(&admin), what)?;
        let id = match parse_survey_id(id) {
            Ok(id) => id,
            // Only a platform admin is told the id is malformed; anyone else is refused as for
            // any survey they do not run (an empty request names none of theirs).
            Err(error) if admin.is_platform_admin() => {
                return Err(Error::Invalid(vec![error]).into());
            }
            Err(_) => {
                admin.require(false, what)?;
                return Err(Status::permission_denied(format!(
                    "your account may not {what}"
                )));
            }
        };
        let model = queries::survey(&self.db, id).await?;
        let allowed = model
            .as_ref()
            .is_some_and(|m| administers(&admin, &m.scope, &m.scope_code));
        admin.require(allowed, what)?;
        model.ok_or_else(|| Status::permission_denied(format!("your account may not {what}")))
    }

    /// Loads a draft the caller administers, lets `change` edit it, and saves it.
    async fn edit_draft<T, R>(
        &self,
        request: &Request<T>,
        id: &str,
        change: impl FnOnce(&mut survey::Model, &mut Definition) -> Result<R, Status>,
    ) -> Result<(pb::Survey, R), Status> {
        let mut model = self.survey_admin(request, id, "edit this survey").await?;
        if model.status != DRAFT {
            return Err(Error::Conflict(
                "the survey is published: its questions and settings can no longer change".into(),
            )
            .into());
        }
        let mut definition = queries::definition(&model)?;
        let result = change(&mut model, &mut definition)?;
        model.definition = queries::to_json(&definition)?;
        queries::save_draft(&self.db, &model).await?;
        Ok((self.survey_to_pb(&model)?, result))
    }

    /// The survey a public request is for, by slug or by an unused invitation code (normalised
    /// code and its hash returned too).
    async fn public_survey(
        &self,
        slug: &str,
        code: &str,
    ) -> Result<(survey::Model, Option<String>), Status> {
        let not_found = || Status::not_found("survey not found: check the link or the code");
        let code = code.trim();
        if !code.is_empty() {
            let plain = codes::normalise("invitation_code", code)
                .map_err(|e| Status::from(Error::Invalid(vec![e])))?;
            let hash = codes::hash(&plain);
            let model = queries::survey_by_code(&self.db, &hash)
                .await?
                .ok_or_else(not_found)?;
            if !slug.trim().is_empty() && model.slug != slug.trim() {
                return Err(not_found());
            }
            return Ok((model, Some(hash)));
        }
        let slug = slug.trim();
        if slug.is_empty() || slug.len() > 64 {
            return Err(not_found());
        }
        let model = queries::survey_by_slug(&self.db, slug)
            .await?
            .ok_or_else(not_found)?;
        if model.status == DRAFT {
            return Err(not_found());
        }
        if model.distribution == "invitation" && model.status != CLOSED {
            return Err(invalid(
                "invitation_code",
                "Enter the invitation code you were given: this survey is by invitation only",
            ));
        }
        Ok((model, None))
    }
}

#[tonic::async_trait]
impl SurveyService for SurveyApi {
    async fn create_survey(
        &self,
        request: Request<pb::CreateSurveyRequest>,
    ) -> Result<Response<pb::CreateSurveyResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        let r = request.get_ref();
        let what = "create surveys for this organisation";
        // Anyone but a platform admin is refused first unless they run the scope named, so that
        // nothing about a form is checked for someone who may not use it.
        if !admin.is_platform_admin() {
            let code = r.scope_code.trim().to_ascii_uppercase();
            let named = scope_name(r.scope).is_some_and(|scope| administers(&admin, scope, &code));
            admin.require(named, what)?;
        }
        let mut errors = FieldErrors::new();
        let scope = scope_name(r.scope);
        if scope.is_none() {
            errors.push(FieldError::new(
                "scope",
                "Select who the survey is for: a trust, a region or national",
            ));
        }
        let code = match scope {
            Some("national") | None => Some(String::new()),
            Some(_) => errors.check(parse_code("scope_code", &r.scope_code)),
        };
        let title = errors.check(single_line(
            "title",
            "a title",
            &r.title,
            definition::TITLE_MAX,
        ));
        errors.into_result().map_err(Error::Invalid)?;
        let (Some(scope), Some(code), Some(title)) = (scope, code, title) else {
            return Err(invalid("title", "Enter a title"));
        };
        admin.require(administers(&admin, scope, &code), what)?;
        let mut definition = Definition::default();
        if r.starting_set == pb::StartingSet::FeelingValued as i32 {
            definition
                .add_feeling_valued()
                .map_err(|e| invalid("starting_set", &e))?;
        }
        let model = queries::create_survey(
            &self.db,
            queries::NewSurvey {
                scope: scope.to_owned(),
                scope_code: code,
                title,
                definition,
            },
        )
        .await?;
        Ok(Response::new(pb::CreateSurveyResponse {
            survey: Some(self.survey_to_pb(&model)?),
        }))
    }

    async fn update_survey(
        &self,
        request: Request<pb::UpdateSurveyRequest>,
    ) -> Result<Response<pb::UpdateSurveyResponse>, Status> {
        let r = request.get_ref().clone();
        let service_minimum = self.minimum_group_size;
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |model, _| {
                let mut errors = FieldErrors::new();
                let title = errors.check(single_line(
                    "title",
                    "a title",
                    &r.title,
                    definition::TITLE_MAX,
                ));
                let introduction = if r.introduction.trim().is_empty() {
                    Some(String::new())
                } else {
                    errors.check(multi_line(
                        "introduction",
                        "the introduction",
                        &r.introduction,
                        definition::INTRODUCTION_MAX,
                    ))
                };
                let distribution = match pb::Distribution::try_from(r.distribution) {
                    Ok(pb::Distribution::OpenLink) => Some("open_link"),
                    Ok(pb::Distribution::Invitation) => Some("invitation"),
                    _ => {
                        errors.push(FieldError::new(
                            "distribution",
                            "Select how the survey is shared: an open link or invitations",
                        ));
                        None
                    }
                };
                let closes_at = match &r.closes_at {
                    None => Some(None),
                    Some(t) => match DateTime::from_timestamp(t.seconds, 0) {
                        Some(at) if at > Utc::now() => Some(Some(at)),
                        _ => {
                            errors.push(FieldError::new(
                                "closes_at",
                                "The closing date must be in the future",
                            ));
                            None
                        }
                    },
                };
                let demo = r.demographics.clone().unwrap_or_default();
                let demographics = match Demographics::parse(
                    &demo
                        .trusts
                        .iter()
                        .map(|t| (t.code.clone(), t.label.clone()))
                        .collect::<Vec<_>>(),
                    &demo
                        .sites
                        .iter()
                        .map(|s| (s.trust_code.clone(), s.code.clone(), s.label.clone()))
                        .collect::<Vec<_>>(),
                    demo.ask_staff_group,
                    demo.ask_band,
                ) {
                    Ok(mut d) => {
                        if model.scope == "trust" {
                            // A trust survey's trust is fixed; its sites are its own.
                            d.trusts.clear();
                            d.sites.retain(|s| s.trust_code == model.scope_code);
                        } else {
                            let trusts = d.trusts.clone();
                            if let Some(i) = d
                                .sites
                                .iter()
                                .position(|s| !trusts.iter().any(|t| t.code == s.trust_code))
                            {
                                errors.push(FieldError::new(
                                    &format!("demographics.sites[{i}]"),
                                    "A site's trust must be one of the trusts listed",
                                ));
                            }
                        }
                        Some(d)
                    }
                    Err(list) => {
                        for e in list {
                            errors.push(e);
                        }
                        None
                    }
                };
                let minimum = r.anonymity.as_ref().map_or(0, |a| a.minimum_group_size);
                if minimum != 0 && (minimum < service_minimum || minimum > 100) {
                    errors.push(FieldError::new(
                        "anonymity.minimum_group_size",
                        format!(
                            "The minimum group size must be between {service_minimum} and 100"
                        ),
                    ));
                }
                errors.into_result().map_err(Error::Invalid)?;
                let (Some(title), Some(introduction), Some(distribution), Some(closes_at), Some(d)) =
                    (title, introduction, distribution, closes_at, demographics)
                else {
                    return Err(invalid("title", "The form could not be read"));
                };
                model.title = title;
                model.introduction = introduction;
                model.distribution = distribution.to_owned();
                model.closes_at = closes_at;
                model.demographics = queries::to_json(&d)?;
                model.minimum_group_size = i32::try_from(minimum).unwrap_or(0);
                Ok(())
            })
            .await?;
        Ok(Response::new(pb::UpdateSurveyResponse {
            survey: Some(survey),
        }))
    }

    async fn add_feeling_valued_set(
        &self,
        request: Request<pb::AddFeelingValuedSetRequest>,
    ) -> Result<Response<pb::AddFeelingValuedSetResponse>, Status> {
        let id = request.get_ref().survey_id.clone();
        let (survey, ()) = self
            .edit_draft(&request, &id, |_, d| {
                d.add_feeling_valued()
                    .map_err(|e| Error::Conflict(e).into())
            })
            .await?;
        Ok(Response::new(pb::AddFeelingValuedSetResponse {
            survey: Some(survey),
        }))
    }

    async fn add_section(
        &self,
        request: Request<pb::AddSectionRequest>,
    ) -> Result<Response<pb::AddSectionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, section_id) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                let (title, description) =
                    parse_section(&r.title, &r.description).map_err(Error::Invalid)?;
                d.add_section(title, description)
                    .map_err(|e| Error::Conflict(e).into())
            })
            .await?;
        Ok(Response::new(pb::AddSectionResponse {
            survey: Some(survey),
            section_id,
        }))
    }

    async fn update_section(
        &self,
        request: Request<pb::UpdateSectionRequest>,
    ) -> Result<Response<pb::UpdateSectionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                let (title, description) =
                    parse_section(&r.title, &r.description).map_err(Error::Invalid)?;
                found(
                    d.update_section(r.section_id.trim(), title, description),
                    "section",
                )
            })
            .await?;
        Ok(Response::new(pb::UpdateSectionResponse {
            survey: Some(survey),
        }))
    }

    async fn remove_section(
        &self,
        request: Request<pb::RemoveSectionRequest>,
    ) -> Result<Response<pb::RemoveSectionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                found(d.remove_section(r.section_id.trim()), "section")
            })
            .await?;
        Ok(Response::new(pb::RemoveSectionResponse {
            survey: Some(survey),
        }))
    }

    async fn move_section(
        &self,
        request: Request<pb::MoveSectionRequest>,
    ) -> Result<Response<pb::MoveSectionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                found(
                    d.move_section(r.section_id.trim(), r.position as usize),
                    "section",
                )
            })
            .await?;
        Ok(Response::new(pb::MoveSectionResponse {
            survey: Some(survey),
        }))
    }

    async fn add_question(
        &self,
        request: Request<pb::AddQuestionRequest>,
    ) -> Result<Response<pb::AddQuestionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, question_id) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                let question = question_input(r.question.clone())
                    .parse("question", None)
                    .map_err(Error::Invalid)?;
                let id = question.id.clone();
                match d.add_question(r.section_id.trim(), question) {
                    Ok(()) => Ok(id),
                    Err(e) if e == "section not found" => {
                        Err(Error::NotFound("section".into()).into())
                    }
                    Err(e) => Err(Error::Conflict(e).into()),
                }
            })
            .await?;
        Ok(Response::new(pb::AddQuestionResponse {
            survey: Some(survey),
            question_id,
        }))
    }

    async fn update_question(
        &self,
        request: Request<pb::UpdateQuestionRequest>,
    ) -> Result<Response<pb::UpdateQuestionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                let Some(existing) = d.question_mut(r.question_id.trim()) else {
                    return Err(Error::NotFound("question".into()).into());
                };
                let question = question_input(r.question.clone())
                    .parse("question", Some(existing))
                    .map_err(Error::Invalid)?;
                *existing = question;
                Ok(())
            })
            .await?;
        Ok(Response::new(pb::UpdateQuestionResponse {
            survey: Some(survey),
        }))
    }

    async fn remove_question(
        &self,
        request: Request<pb::RemoveQuestionRequest>,
    ) -> Result<Response<pb::RemoveQuestionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                found(d.remove_question(r.question_id.trim()), "question")
            })
            .await?;
        Ok(Response::new(pb::RemoveQuestionResponse {
            survey: Some(survey),
        }))
    }

    async fn move_question(
        &self,
        request: Request<pb::MoveQuestionRequest>,
    ) -> Result<Response<pb::MoveQuestionResponse>, Status> {
        let r = request.get_ref().clone();
        let (survey, ()) = self
            .edit_draft(&request, &r.survey_id, |_, d| {
                found(
                    d.move_question(
                        r.question_id.trim(),
                        r.section_id.trim(),
                        r.position as usize,
                    ),
                    "question or section",
                )
            })
            .await?;
        Ok(Response::new(pb::MoveQuestionResponse {
            survey: Some(survey),
        }))
    }

    async fn get_survey(
        &self,
        request: Request<pb::GetSurveyRequest>,
    ) -> Result<Response<pb::GetSurveyResponse>, Status> {
        let model = self
            .survey_admin(&request, &request.get_ref().survey_id, "see this survey")
            .await?;
        Ok(Response::new(pb::GetSurveyResponse {
            survey: Some(self.survey_to_pb(&model)?),
            preview: Some(self.to_answer(&model)?),
        }))
    }

    async fn list_surveys(
        &self,
        request: Request<pb::ListSurveysRequest>,
    ) -> Result<Response<pb::ListSurveysResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        admin.require(runs_some_surveys(&admin), "see surveys")?;
        let surveys = queries::all_surveys(&self.db)
            .await?
            .into_iter()
            .filter(|m| administers(&admin, &m.scope, &m.scope_code))
            .map(|m| pb::SurveySummary {
                id: m.id.to_string(),
                scope: scope_to_pb(&m.scope) as i32,
                scope_code: m.scope_code.clone(),
                title: m.title.clone(),
                status: status_to_pb(&m.status) as i32,
                distribution: distribution_to_pb(&m.distribution) as i32,
                slug: m.slug.clone(),
                closes_at: m.closes_at.map(timestamp),
                responses: u64::try_from(m.responses).unwrap_or(0),
            })
            .collect();
        Ok(Response::new(pb::ListSurveysResponse { surveys }))
    }

    async fn publish_survey(
        &self,
        request: Request<pb::PublishSurveyRequest>,
    ) -> Result<Response<pb::PublishSurveyResponse>, Status> {
        let model = self
            .survey_admin(
                &request,
                &request.get_ref().survey_id,
                "publish this survey",
            )
            .await?;
        if model.status != DRAFT {
            return Err(Error::Conflict("the survey is already published".into()).into());
        }
        let definition = queries::definition(&model)?;
        let now = Utc::now();
        if definition.question_count() == 0 {
            return Err(
                Error::Conflict("add at least one question before publishing".into()).into(),
            );
        }
        if model.closes_at.is_none_or(|at| at <= now) {
            return Err(Error::Conflict(
                "set a closing date in the future before publishing".into(),
            )
            .into());
        }
        queries::publish(&self.db, model.id, now).await?;
        let model = queries::survey(&self.db, model.id)
            .await?
            .ok_or_else(|| Status::not_found("survey not found"))?;
        Ok(Response::new(pb::PublishSurveyResponse {
            survey: Some(self.survey_to_pb(&model)?),
        }))
    }

    async fn close_survey(
        &self,
        request: Request<pb::CloseSurveyRequest>,
    ) -> Result<Response<pb::CloseSurveyResponse>, Status> {
        let model = self
            .survey_admin(&request, &request.get_ref().survey_id, "close this survey")
            .await?;
        if model.status == DRAFT {
            return Err(Error::Conflict(
                "a draft survey cannot be closed: publish it first".into(),
            )
            .into());
        }
        queries::close(&self.db, &self.outbox, model.id, self.minimum_group_size).await?;
        let model = queries::survey(&self.db, model.id)
            .await?
            .ok_or_else(|| Status::not_found("survey not found"))?;
        Ok(Response::new(pb::CloseSurveyResponse {
            survey: Some(self.survey_to_pb(&model)?),
        }))
    }

    async fn get_survey_to_answer(
        &self,
        request: Request<pb::GetSurveyToAnswerRequest>,
    ) -> Result<Response<pb::GetSurveyToAnswerResponse>, Status> {
        let (slug, code) = match request.into_inner().by {
            Some(pb::get_survey_to_answer_request::By::Slug(slug)) => (slug, String::new()),
            Some(pb::get_survey_to_answer_request::By::InvitationCode(code)) => {
                if code.trim().is_empty() {
                    return Err(invalid("invitation_code", "Enter your invitation code"));
                }
                (String::new(), code)
            }
            None => {
                return Err(Status::not_found(
                    "survey not found: check the link or the code",
                ));
            }
        };
        let (model, _) = self.public_survey(&slug, &code).await?;
        if !queries::is_open(&model, Utc::now()) {
            return Err(Error::Closed.into());
        }
        Ok(Response::new(pb::GetSurveyToAnswerResponse {
            survey: Some(self.to_answer(&model)?),
        }))
    }

    async fn submit_response(
        &self,
        request: Request<pb::SubmitResponseRequest>,
    ) -> Result<Response<pb::SubmitResponseResponse>, Status> {
        let r = request.into_inner();
        let (model, code_hash) = self.public_survey(&r.slug, &r.invitation_code).await?;
        if !queries::is_open(&model, Utc::now()) {
            return Err(Error::Closed.into());
        }
        if model.distribution == "invitation" && code_hash.is_none() {
            return Err(invalid(
                "invitation_code",
                "Enter the invitation code you were given: this survey is by invitation only",
            ));
        }
        let definition = queries::definition(&model)?;
        let demographics = queries::demographics(&model)?;
        let input = SheetInput {
            answers: r
                .answers
                .into_iter()
                .map(|a| AnswerInput {
                    question_id: a.question_id,
                    value: a.value,
                    option_ids: a.option_ids,
                    text: a.text,
                })
                .collect(),
            trust_code: r.trust_code,
            site_code: r.site_code,
            staff_group: r.staff_group,
            band: r.band,
        };
        let fixed = (model.scope == "trust").then_some(model.scope_code.as_str());
        let sheet =
            Sheet::parse(&input, &definition, &demographics, fixed).map_err(Error::Invalid)?;
        // The code is used first, in its own transaction; the response follows in another (see
        // `queries`). Should storing the response fail, the code is given back.
        if let Some(hash) = &code_hash {
            queries::use_code(&self.db, model.id, hash).await?;
        }
        if let Err(error) = queries::add_pending_response(&self.db, model.id, &sheet).await {
            if let Some(hash) = &code_hash
                && !matches!(error, Error::Closed)
            {
                let _ = queries::unuse_code(&self.db, hash).await;
            }
            return Err(error.into());
        }
        // Nothing is logged about the response: a log line has a precise time.
        Ok(Response::new(pb::SubmitResponseResponse {}))
    }

    async fn invite_by_email(
        &self,
        request: Request<pb::InviteByEmailRequest>,
    ) -> Result<Response<pb::InviteByEmailResponse>, Status> {
        let r = request.get_ref();
        let model = self
            .survey_admin(&request, &r.survey_id, "invite people to this survey")
            .await?;
        if model.distribution != "invitation" {
            return Err(Error::Conflict(
                "this survey has an open link: invitations are for invitation-only surveys".into(),
            )
            .into());
        }
        if !queries::is_open(&model, Utc::now()) {
            return Err(Error::Conflict(
                "invitations can be emailed only while the survey is published and open".into(),
            )
            .into());
        }
        if r.emails.is_empty() || r.emails.len() > MAX_EMAILS {
            return Err(invalid(
                "emails",
                &format!("Give between 1 and {MAX_EMAILS} email addresses"),
            ));
        }
        let mut errors = FieldErrors::new();
        let mut addresses: Vec<EmailAddress> = Vec::new();
        for (i, email) in r.emails.iter().enumerate() {
            if let Some(address) = errors.check(EmailAddress::parse(&format!("emails[{i}]"), email))
                && !addresses
                    .iter()
                    .any(|a| a.normalised() == address.normalised())
            {
                addresses.push(address);
            }
        }
        errors.into_result().map_err(Error::Invalid)?;
        let mut hashes = Vec::with_capacity(addresses.len());
        let mut events = Vec::with_capacity(addresses.len());
        for address in &addresses {
            let code = codes::new_code();
            let plain = codes::normalise("code", &code).map_err(|e| Error::Invalid(vec![e]))?;
            hashes.push(codes::hash(&plain));
            events.push(SurveyInvitationRequested {
                survey_title: model.title.clone(),
                email: address.as_str().to_owned(),
                code,
                closes_at: model.closes_at.map(timestamp),
                organisation: model.scope_code.clone(),
            });
        }
        queries::issue_invitations(&self.db, &self.outbox, model.id, hashes, events).await?;
        tracing::info!(survey_id = %model.id, invited = addresses.len(), "survey invitations requested");
        Ok(Response::new(pb::InviteByEmailResponse {
            invited: u32::try_from(addresses.len()).unwrap_or(u32::MAX),
        }))
    }

    async fn generate_invitation_codes(
        &self,
        request: Request<pb::GenerateInvitationCodesRequest>,
    ) -> Result<Response<pb::GenerateInvitationCodesResponse>, Status> {
        let r = request.get_ref();
        let model = self
            .survey_admin(
                &request,
                &r.survey_id,
                "make invitation codes for this survey",
            )
            .await?;
        if r.count == 0 || r.count > MAX_CODES {
            return Err(invalid(
                "count",
                &format!("Enter a number of codes between 1 and {MAX_CODES}"),
            ));
        }
        if model.distribution != "invitation" {
            return Err(Error::Conflict(
                "this survey has an open link: invitations are for invitation-only surveys".into(),
            )
            .into());
        }
        if model.status == CLOSED {
            return Err(Error::Conflict("the survey has closed".into()).into());
        }
        let mut hashes = Vec::new();
        let mut out = Vec::new();
        for _ in 0..r.count {
            let code = codes::new_code();
            let plain = codes::normalise("code", &code).map_err(|e| Error::Invalid(vec![e]))?;
            hashes.push(codes::hash(&plain));
            out.push(pb::InvitationCode {
                path: format!("/surveys/invitation/{code}"),
                code,
            });
        }
        queries::issue_invitations(&self.db, &self.outbox, model.id, hashes, Vec::new()).await?;
        Ok(Response::new(pb::GenerateInvitationCodesResponse {
            codes: out,
        }))
    }

    async fn get_results(
        &self,
        request: Request<pb::GetResultsRequest>,
    ) -> Result<Response<pb::GetResultsResponse>, Status> {
        let model = self
            .survey_admin(
                &request,
                &request.get_ref().survey_id,
                "see this survey's results",
            )
            .await?;
        Ok(Response::new(self.results(&model).await?))
    }

    async fn export_results_csv(
        &self,
        request: Request<pb::ExportResultsCsvRequest>,
    ) -> Result<Response<pb::ExportResultsCsvResponse>, Status> {
        let model = self
            .survey_admin(
                &request,
                &request.get_ref().survey_id,
                "see this survey's results",
            )
            .await?;
        let results = self.results(&model).await?;
        Ok(Response::new(pb::ExportResultsCsvResponse {
            filename: format!("survey-results-{}.csv", model.slug),
            csv: csv(&results),
        }))
    }

    async fn list_free_text_answers(
        &self,
        request: Request<pb::ListFreeTextAnswersRequest>,
    ) -> Result<Response<pb::ListFreeTextAnswersResponse>, Status> {
        let r = request.get_ref();
        let model = self
            .survey_admin(&request, &r.survey_id, "screen this survey's answers")
            .await?;
        if model.status != CLOSED {
            return Err(not_closed());
        }
        let definition = queries::definition(&model)?;
        let question = definition
            .question(r.question_id.trim())
            .filter(|q| q.kind == Kind::FreeText)
            .ok_or_else(|| invalid("question_id", "Select a free-text question of this survey"))?;
        let wanted = match pb::ScreeningStatus::try_from(r.status) {
            Ok(pb::ScreeningStatus::Unscreened) => Some(queries::UNSCREENED),
            Ok(pb::ScreeningStatus::Approved) => Some(queries::APPROVED),
            Ok(pb::ScreeningStatus::Hidden) => Some(queries::HIDDEN),
            _ => None,
        };
        let answers = queries::free_text(&self.db, model.id, &question.id)
            .await?
            .iter()
            .filter(|row| wanted.is_none_or(|w| row.status == w))
            .filter(|row| !r.flagged_only || !row.flags.is_empty())
            .map(free_text_to_pb)
            .collect();
        Ok(Response::new(pb::ListFreeTextAnswersResponse { answers }))
    }

    async fn screen_free_text_answer(
        &self,
        request: Request<pb::ScreenFreeTextAnswerRequest>,
    ) -> Result<Response<pb::ScreenFreeTextAnswerResponse>, Status> {
        let r = request.get_ref();
        let model = self
            .survey_admin(&request, &r.survey_id, "screen this survey's answers")
            .await?;
        if model.status != CLOSED {
            return Err(not_closed());
        }
        let status = match pb::ScreeningStatus::try_from(r.status) {
            Ok(pb::ScreeningStatus::Approved) => queries::APPROVED,
            Ok(pb::ScreeningStatus::Hidden) => queries::HIDDEN,
            _ => return Err(invalid("status", "Select approve or hide")),
        };
        let answer_id = Uuid::parse_str(r.answer_id.trim())
            .map_err(|_| invalid("answer_id", "Select an answer to screen"))?;
        let row = queries::screen(&self.db, model.id, answer_id, status)
            .await?
            .ok_or_else(|| Status::not_found("answer not found"))?;
        Ok(Response::new(pb::ScreenFreeTextAnswerResponse {
            answer: Some(free_text_to_pb(&row)),
        }))
    }
}

/// NOT_FOUND naming `what` unless the edit `done` found it.
fn found(done: bool, what: &str) -> Result<(), Status> {
    if done {
        Ok(())
    } else {
        Err(Error::NotFound(what.to_owned()).into())
    }
}

fn not_closed() -> Status {
    Status::failed_precondition(
        "results are available when the survey closes: they are computed once, at the close, \
         so that no one response can be picked out by comparing results over time",
    )
}

impl SurveyApi {
    /// The closed survey's snapshot, with approved free text in the total and trust cells shown.
    async fn results(&self, model: &survey::Model) -> Result<pb::GetResultsResponse, Status> {
        if model.status != CLOSED {
            return Err(not_closed());
        }
        let mut results = queries::results(&self.db, model.id)
            .await?
            .ok_or_else(not_closed)?;
        results.survey_id = model.id.to_string();
        results.title = model.title.clone();
        results.closed_at = model.closed_at.map(timestamp);
        let comments = queries::approved_comments(&self.db, model.id).await?;
        for question in &mut results.questions {
            let Some(list) = comments.get(&question.question_id) else {
                continue;
            };
            for cell in &mut question.cells {
                if cell.withheld {
                    continue;
                }
                if cell.dimension == pb::Dimension::Total as i32 {
                    cell.comments = list.iter().map(|(_, text)| text.clone()).collect();
                } else if cell.dimension == pb::Dimension::Trust as i32 && !cell.code.is_empty() {
                    cell.comments = list
                        .iter()
                        .filter(|(trust, _)| trust == &cell.code)
                        .map(|(_, text)| text.clone())
                        .collect();
                }
            }
        }
        Ok(results)
    }
}
