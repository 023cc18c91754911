//! People's data, for platform admins (UK GDPR Articles 15 and 17): a download of everything Valued
//! holds about an email address, each service answering for its own data in the document
//! `valued export-person` writes; and erasing a person, confirmed first, with each request's
//! progress until every service has answered. Each service checks the caller itself; the nomination
//! service records every export and request in its audit log, and is asked first.

use axum::Form;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::subject_access::{self, Answers};
use valued_proto::nomination::v1::{
    ErasureProgress, ExportPersonRequest, GetErasureProgressRequest, ListErasureRequestsRequest,
    RequestErasureRequest,
};
use valued_proto::{notification, voting};

use super::notifications::through_grant_copy;
use super::signed::{AdminResult, Signed, check_csrf, field_errors};
use crate::clients::{NOTIFICATION, SURVEY_FEEDBACK, VOTING};
use crate::error::GatewayError;
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::{see_other, segment};
use crate::templates;

const PRIVACY_PATH: &str = "/admin/privacy";
const ERASURES_PATH: &str = "/admin/privacy/erasures";

/// The page's two email inputs, in page order: one form finds, the other erases.
const EXPORT_EMAIL: &str = "export_email";
const ERASE_EMAIL: &str = "erase_email";

/// Either of the page's forms, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PrivacyForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    export_email: String,
    erase_email: String,
}

/// The confirmation page's form: the address to erase.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    csrf_token: String,
    email: String,
}

/// One service's part in an erasure, as the pages show it.
#[derive(Debug, Serialize)]
struct ServiceView {
    name: &'static str,
    holds: &'static str,
    erased: bool,
    /// "Erased 3 records on …", or empty while waiting.
    note: String,
}

/// An erasure request as the pages show it.
#[derive(Debug, Serialize)]
struct ErasureView {
    id: String,
    path: String,
    requested: String,
    requested_by: String,
    done: bool,
    waiting: usize,
    services: Vec<ServiceView>,
}

/// A service's name, and what it holds about people, in words.
fn service_words(service: &str) -> (&'static str, &'static str) {
    match service {
        "nomination" => (
            "Nominations",
            "nominations made and about them, consent, drafts, admin roles",
        ),
        "voting" => ("Voting", "votes cast"),
        "survey-feedback" => ("Survey feedback", "nothing that identifies anyone"),
        "notification" => ("Email", "emails sent, letters to MPs, email preferences"),
        _ => ("Another service", ""),
    }
}

fn when(at: Option<&prost_types::Timestamp>) -> String {
    valued_platform::uk_time::when_of(at).unwrap_or_default()
}

impl From<ErasureProgress> for ErasureView {
    fn from(p: ErasureProgress) -> Self {
        let services: Vec<ServiceView> = p
            .services
            .iter()
            .map(|s| {
                let (name, holds) = service_words(&s.service);
                let records = if s.records == 1 { "record" } else { "records" };
                ServiceView {
                    name,
                    holds,
                    erased: s.erased,
                    note: if s.erased {
                        format!(
                            "Erased {} {records} on {}",
                            s.records,
                            when(s.erased_at.as_ref())
                        )
                    } else {
                        String::new()
                    },
                }
            })
            .collect();
        Self {
            path: format!("{ERASURES_PATH}/{}", segment(&p.request_id)),
            requested: when(p.requested_at.as_ref()),
            requested_by: p.requested_by,
            done: p.done,
            waiting: services.iter().filter(|s| !s.erased).count(),
            services,
            id: p.request_id,
        }
    }
}

/// `GET /admin/privacy`
pub async fn privacy(signed: Signed, headers: HeaderMap) -> AdminResult<Response> {
    signed.platform_admin().await?;
    privacy_page(&signed, &headers, PrivacyForm::default(), Vec::new()).await
}

/// The page: both forms (with `errors`, as `form` was typed) and the recent erasure requests.
async fn privacy_page(
    signed: &Signed,
    headers: &HeaderMap,
    form: PrivacyForm,
    errors: Vec<SummaryError>,
) -> AdminResult<Response> {
    let requests: Vec<ErasureView> = signed
        .nomination()
        .list_erasure_requests(signed.signed(ListErasureRequestsRequest {}))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .requests
        .into_iter()
        .map(ErasureView::from)
        .collect();
    let messages = forms::by_field(&errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/privacy.html",
            context! {
                page_title => "People's data",
                form => form,
                errors => errors,
                messages => messages,
                requests => requests,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// The address in `field` of `form` (normalised), once the form and the caller are checked: a
/// platform admin's own form. The page again with the field's error for anything else typed.
async fn address(
    signed: &Signed,
    headers: &HeaderMap,
    form: PrivacyForm,
    field: &str,
) -> AdminResult<Result<String, Response>> {
    check_csrf(headers, &form.csrf_token, PRIVACY_PATH)?;
    signed.platform_admin().await?;
    let typed = if field == EXPORT_EMAIL {
        &form.export_email
    } else {
        &form.erase_email
    };
    match EmailAddress::parse(field, typed) {
        Ok(email) => Ok(Ok(email.normalised())),
        Err(error) => {
            let errors = forms::summary(&[error], &[EXPORT_EMAIL, ERASE_EMAIL], |_| None);
            Ok(Err(privacy_page(signed, headers, form, errors).await?))
        }
    }
}

/// The service's field errors for `email` as the errors of the page's input `field`.
async fn refused_address(
    signed: &Signed,
    headers: &HeaderMap,
    form: PrivacyForm,
    field: &'static str,
    status: tonic::Status,
) -> AdminResult<Response> {
    let errors: Vec<FieldError> = field_errors(signed, status)?;
    let anchor = |named: &str| (named == "email").then_some(field);
    let errors = forms::summary(&errors, &[EXPORT_EMAIL, ERASE_EMAIL], anchor);
    privacy_page(signed, headers, form, errors).await
}

/// A service's answer, which is a JSON object.
fn answer(service: &str, json: &str) -> AdminResult<serde_json::Value> {
    Ok(serde_json::from_str(json)
        .map_err(|e| GatewayError::Internal(format!("{service}'s subject access answer: {e}")))?)
}

/// `POST /admin/privacy/export`: the file of everything held about the address, from every
/// service; the nomination service records the export before any service answers.
pub async fn export(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<PrivacyForm>,
) -> AdminResult<Response> {
    let email = match address(&signed, &headers, form, EXPORT_EMAIL).await? {
        Ok(email) => email,
        Err(page) => return Ok(page),
    };
    let nomination = signed
        .nomination()
        .export_person(signed.signed(ExportPersonRequest {
            email: email.clone(),
        }))
        .await;
    let nomination = match nomination {
        Ok(response) => response.into_inner().json,
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let form = PrivacyForm {
                export_email: email,
                ..PrivacyForm::default()
            };
            return refused_address(&signed, &headers, form, EXPORT_EMAIL, status).await;
        }
        Err(status) => return Err(signed.fail(status)),
    };
    let (voting, notification, survey_feedback) = tokio::join!(
        through_grant_copy(|| {
            let mut client = signed.clients.voting.clone();
            let message = signed.signed(voting::v1::ExportPersonRequest {
                email: email.clone(),
            });
            async move { client.export_person(message).await }
        }),
        through_grant_copy(|| {
            let mut client = signed.clients.notification.clone();
            let message = signed.signed(notification::v1::ExportPersonRequest {
                email: email.clone(),
            });
            async move { client.export_person(message).await }
        }),
        through_grant_copy(|| {
            let mut client = signed.clients.feedback.clone();
            let message = signed.signed(valued_proto::survey::v1::FeedbackExportPersonRequest {
                email: email.clone(),
            });
            async move { client.export_person(message).await }
        }),
    );
    let voting = voting.map_err(|s| signed.failed_at(VOTING, s))?.json;
    let notification = notification
        .map_err(|s| signed.failed_at(NOTIFICATION, s))?
        .json;
    let survey_feedback = survey_feedback
        .map_err(|s| signed.failed_at(SURVEY_FEEDBACK, s))?
        .json;
    let exported_at = chrono::Utc::now();
    let answers = Answers {
        nomination: answer("nomination", &nomination)?,
        voting: answer(VOTING, &voting)?,
        notification: answer(NOTIFICATION, &notification)?,
        survey_feedback: answer(SURVEY_FEEDBACK, &survey_feedback)?,
    };
    let document = subject_access::document(&email, exported_at, answers);
    let body = serde_json::to_string_pretty(&document)
        .map_err(|e| GatewayError::Internal(format!("subject access file: {e}")))?;
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"valued-subject-access-{}.json\"",
        exported_at.format("%Y-%m-%d")
    ))
    .map_err(|e| GatewayError::Internal(e.to_string()))?;
    tracing::info!("subject access file exported");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// `POST /admin/privacy/erase`: what erasing the address will do, and the button that does it.
pub async fn confirm_erasure(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<PrivacyForm>,
) -> AdminResult<Response> {
    let email = match address(&signed, &headers, form, ERASE_EMAIL).await? {
        Ok(email) => email,
        Err(page) => return Ok(page),
    };
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/erase.html",
            context! {
                page_title => "Erase a person",
                email => email,
                action => ERASURES_PATH,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// `POST /admin/privacy/erasures`: requests the erasure, then follows it.
pub async fn request_erasure(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, PRIVACY_PATH)?;
    let requested = signed
        .nomination()
        .request_erasure(signed.signed(RequestErasureRequest {
            email: form.email.clone(),
        }))
        .await;
    match requested {
        Ok(response) => {
            let id = response.into_inner().request_id;
            tracing::info!(request = %id, "erasure requested");
            Ok(see_other(&format!("{ERASURES_PATH}/{}", segment(&id)))?)
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let form = PrivacyForm {
                erase_email: form.email,
                ..PrivacyForm::default()
            };
            refused_address(&signed, &headers, form, ERASE_EMAIL, status).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

/// `GET /admin/privacy/erasures/{id}`: which services have erased the person, and which are still
/// to.
pub async fn erasure(signed: Signed, Path(id): Path<String>) -> AdminResult<Response> {
    if !forms::is_token(&id) {
        return Err(GatewayError::NotFound.into());
    }
    let progress = signed
        .nomination()
        .get_erasure_progress(signed.signed(GetErasureProgressRequest { request_id: id }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .progress
        .ok_or(GatewayError::NotFound)?;
    let request = ErasureView::from(progress);
    Ok(crate::routes::page::render(
        "admin/erasure.html",
        context! {
            page_title => "Erasure request",
            request => request,
        },
    )?)
}

#[cfg(test)]
mod tests {
    use valued_proto::nomination::v1::ServiceErasure;

    use super::*;

    #[test]
    fn a_request_shows_each_service_erased_or_waiting() {
        let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let view = ErasureView::from(ErasureProgress {
            request_id: "0193a1b2-0000-7000-8000-000000000001".into(),
            requested_at: at(1_790_000_000),
            requested_by: "admin@example.org".into(),
            services: vec![
                ServiceErasure {
                    service: "nomination".into(),
                    erased: true,
                    records: 1,
                    erased_at: at(1_790_000_060),
                },
                ServiceErasure {
                    service: "voting".into(),
                    ..ServiceErasure::default()
                },
            ],
            done: false,
        });
        assert_eq!(
            view.path,
            "/admin/privacy/erasures/0193a1b2-0000-7000-8000-000000000001"
        );
        assert_eq!(view.requested, "21 September 2026 at 15:13 (UK time)");
        assert_eq!(view.waiting, 1);
        assert_eq!(
            view.services[0].note,
            "Erased 1 record on 21 September 2026 at 15:14 (UK time)"
        );
        assert!(!view.services[1].erased);
        assert_eq!(view.services[1].name, "Voting");
    }
}
