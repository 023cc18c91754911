//! A trust's settings (`/admin/trusts/{code}/settings`): the awards contact, who is told of each
//! confirmed nomination to review; the sender name and reply-to of the trust's emails; its staff's
//! work-email domains (one a line); and its sites, which the nomination form offers, added and
//! removed on the same page. The nomination service decides who may see and change them (the
//! trust's admins, its region's, platform admins) and checks every field.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{
    AddTrustSiteRequest, GetTrustSettingsRequest, RemoveTrustSiteRequest, SetTrustSettingsRequest,
    TrustSettings, TrustSite,
};

use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

fn path_of(code: &str) -> String {
    format!("/admin/trusts/{}/settings", segment(code))
}

/// The page's inputs, in page order.
const FIELDS: &[&str] = &[
    "awards_email",
    "sender_name",
    "reply_to",
    "work_email_domains",
    "site_code",
    "site_name",
];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SettingsForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    awards_email: String,
    sender_name: String,
    reply_to: String,
    /// One domain a line.
    work_email_domains: String,
}

impl SettingsForm {
    fn of(settings: &TrustSettings) -> Self {
        Self {
            csrf_token: String::new(),
            awards_email: settings.awards_email.clone(),
            sender_name: settings.sender_name.clone(),
            reply_to: settings.reply_to.clone(),
            work_email_domains: settings.work_email_domains.join("\n"),
        }
    }

    /// The lines as typed, blank ones too, so that the service's `work_email_domains[i]` is line
    /// `i + 1`.
    fn domains(&self) -> Vec<String> {
        self.work_email_domains
            .lines()
            .map(|line| line.trim().to_owned())
            .collect()
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SiteForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    site_code: String,
    site_name: String,
}

/// The service's field names as the page's: a domain's line named in its message, a site's
/// fields by their inputs.
fn on_page(errors: &[FieldError]) -> Vec<FieldError> {
    errors
        .iter()
        .map(|error| {
            let field = error.field.as_str();
            if let Some(i) = field
                .strip_prefix("work_email_domains[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok())
            {
                FieldError::new(
                    "work_email_domains",
                    format!("Line {}: {}", i + 1, error.message),
                )
            } else {
                let field = match field {
                    "site.code" | "site" => "site_code",
                    "site.name" => "site_name",
                    other => other,
                };
                FieldError::new(field, error.message.clone())
            }
        })
        .collect()
}

fn page(
    headers: &HeaderMap,
    settings: &TrustSettings,
    (typed, site): (&SettingsForm, &SiteForm),
    done: Option<&str>,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let errors = on_page(errors);
    let summary = forms::summary(&errors, FIELDS, |_| None);
    Ok(forms::form_page(
        headers,
        forms::status_for(&errors),
        |csrf_token| {
            templates::render(
                "admin/trust_settings.html",
                context! {
                    page_title => format!("Settings: {}", settings.name),
                    action => path_of(&settings.trust_code),
                    code => settings.trust_code,
                    form => typed,
                    site => site,
                    sites => settings.sites.iter().map(|s| context! {
                        code => s.code,
                        name => s.name,
                    }).collect::<Vec<_>>(),
                    done => done,
                    csrf_token => csrf_token,
                    field_errors => forms::by_field(&summary),
                    errors => summary,
                },
            )
        },
    )?)
}

async fn settings_of(signed: &Signed, code: &str) -> AdminResult<TrustSettings> {
    Ok(signed
        .nomination()
        .get_trust_settings(signed.signed(GetTrustSettingsRequest {
            trust_code: code.to_owned(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .settings
        .unwrap_or_default())
}

/// `GET /admin/trusts/{code}/settings`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let settings = settings_of(&signed, &code).await?;
    let done = match query.done.as_str() {
        "saved" => Some("Settings saved"),
        "site-added" => Some("Site saved"),
        "site-removed" => Some("Site removed"),
        _ => None,
    };
    page(
        &headers,
        &settings,
        (&SettingsForm::of(&settings), &SiteForm::default()),
        done,
        &[],
    )
}

/// `POST /admin/trusts/{code}/settings`
pub async fn save(
    signed: Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<SettingsForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &path_of(&code))?;
    let settings = settings_of(&signed, &code).await?;
    let saved = signed
        .nomination()
        .set_trust_settings(signed.signed(SetTrustSettingsRequest {
            settings: Some(TrustSettings {
                awards_email: form.awards_email.clone(),
                sender_name: form.sender_name.clone(),
                reply_to: form.reply_to.clone(),
                work_email_domains: form.domains(),
                ..settings.clone()
            }),
        }))
        .await;
    match saved {
        Ok(_) => Ok(see_other(&format!(
            "{}?done=saved",
            path_of(&settings.trust_code)
        ))?),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            page(
                &headers,
                &settings,
                (&form, &SiteForm::default()),
                None,
                &errors,
            )
        }
        Err(status) => Err(signed.fail(status)),
    }
}

/// `POST /admin/trusts/{code}/sites`: adds a site, or renames the trust's site with that code.
pub async fn add_site(
    signed: Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<SiteForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &path_of(&code))?;
    let settings = settings_of(&signed, &code).await?;
    let added = signed
        .nomination()
        .add_trust_site(signed.signed(AddTrustSiteRequest {
            trust_code: settings.trust_code.clone(),
            site: Some(TrustSite {
                code: form.site_code.clone(),
                name: form.site_name.clone(),
            }),
        }))
        .await;
    let errors = match added {
        Ok(_) => {
            return Ok(see_other(&format!(
                "{}?done=site-added",
                path_of(&settings.trust_code)
            ))?);
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            valued_platform::grpc::field_errors(&status)
        }
        Err(status) if status.code() == Code::AlreadyExists => {
            vec![FieldError::new("site_code", status.message())]
        }
        Err(status) => return Err(signed.fail(status)),
    };
    page(
        &headers,
        &settings,
        (&SettingsForm::of(&settings), &form),
        None,
        &errors,
    )
}

/// `POST /admin/trusts/{code}/sites/{site}/remove`
pub async fn remove_site(
    signed: Signed,
    headers: HeaderMap,
    Path((code, site)): Path<(String, String)>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    let path = path_of(&code);
    check_csrf(&headers, &form.csrf_token, &path)?;
    signed
        .nomination()
        .remove_trust_site(signed.signed(RemoveTrustSiteRequest {
            trust_code: code.clone(),
            site_code: site,
        }))
        .await
        .map_err(|s| signed.fail(s))?;
    Ok(see_other(&format!("{path}?done=site-removed"))?)
}
