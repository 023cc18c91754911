//! The admin pages: moderation, the audit log, the CSV export, judging and the shortlist. The gateway
//! signs admins in (see [`crate::session`]) and forwards their ID token with every call; the
//! nomination service alone decides what each may see and do. Its UNAUTHENTICATED sends the browser to
//! sign in again, its PERMISSION_DENIED shows a 403 page.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{Campaign, ListCampaignsRequest, Nomination};

use crate::clients::{Clients, NOMINATION, Traced};
use crate::error::GatewayError;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::session::{self, AuthSettings, Oidc};

mod deliveries;
mod home;
mod judging;
mod moderation;
mod notifications;
mod setup;

#[derive(Clone)]
pub struct AdminState {
    clients: Clients,
    /// `None` when no issuer is configured.
    oidc: Option<Arc<Oidc>>,
}

impl FromRef<AdminState> for Clients {
    fn from_ref(state: &AdminState) -> Self {
        state.clients.clone()
    }
}

pub fn router<S>(clients: Clients, auth: &AuthSettings) -> Router<S> {
    let state = AdminState {
        clients,
        oidc: auth.enabled().then(|| Arc::new(Oidc::new(auth.clone()))),
    };
    Router::new()
        .route("/admin", get(home::index))
        .route("/admin/sign-in", get(home::sign_in))
        .route("/admin/callback", get(home::callback))
        .route("/admin/sign-out", post(home::sign_out))
        .route("/admin/campaigns/{slug}/moderation", get(moderation::queue))
        .route(
            "/admin/campaigns/{slug}/moderation/{id}",
            post(moderation::moderate),
        )
        .route(
            "/admin/campaigns/{slug}/matches/{id}",
            post(moderation::review_match),
        )
        .route(
            "/admin/campaigns/{slug}/nominations.csv",
            get(moderation::export),
        )
        .route("/admin/trusts/{code}/audit", get(moderation::audit))
        .route("/admin/templates", get(notifications::templates))
        .route("/admin/templates/{name}", get(notifications::template_html))
        .route("/admin/mp-emails", get(notifications::mp_emails))
        .route("/admin/held-letters", get(notifications::held_letters))
        .route(
            "/admin/held-letters/{id}",
            post(notifications::review_held_letter),
        )
        .route(
            "/admin/campaigns/{slug}/rubric",
            get(setup::rubric).post(setup::save_rubric),
        )
        .route(
            "/admin/campaigns/{slug}/judges",
            get(setup::judges).post(setup::assign_judge),
        )
        .route("/admin/campaigns/{slug}/judging", get(judging::work))
        .route(
            "/admin/campaigns/{slug}/judging/{id}/score",
            post(judging::score),
        )
        .route(
            "/admin/campaigns/{slug}/judging/{id}/conflict",
            post(judging::conflict),
        )
        .route("/admin/campaigns/{slug}/shortlist", get(judging::shortlist))
        .route(
            "/admin/campaigns/{slug}/shortlist/finalists",
            post(judging::finalists),
        )
        .route(
            "/admin/campaigns/{slug}/shortlist/winner",
            post(judging::winner),
        )
        .route(
            "/admin/campaigns/{slug}/shortlist/forward",
            post(judging::forward),
        )
        .route("/admin/deliveries", get(deliveries::search))
        .with_state(state)
}

/// Why an admin page cannot be shown.
#[derive(Debug)]
pub enum AdminError {
    /// Not signed in, or the session ended: sign in and come back to `next`.
    SignIn {
        next: String,
    },
    /// Signed in, but the nomination service refuses this to the caller.
    Denied,
    /// No OpenID Connect issuer is configured.
    NotConfigured,
    /// The service would not do it now (a closed window, a rule of the campaign): its message.
    Refused(String),
    Gateway(GatewayError),
}

impl From<GatewayError> for AdminError {
    fn from(error: GatewayError) -> Self {
        Self::Gateway(error)
    }
}

impl From<minijinja::Error> for AdminError {
    fn from(error: minijinja::Error) -> Self {
        Self::Gateway(error.into())
    }
}

pub type AdminResult<T> = std::result::Result<T, AdminError>;

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let shown = match self {
            Self::SignIn { next } => {
                return see_other(&format!(
                    "/admin/sign-in?next={}",
                    segment(session::admin_path(&next))
                ))
                .into_response();
            }
            Self::Gateway(error) => return error.into_response(),
            Self::Denied => {
                tracing::info!("admin page refused by the nomination service");
                forms::message_page(
                    StatusCode::FORBIDDEN,
                    "You do not have permission to see this page",
                    &[
                        "Your account is signed in, but it has no role for this campaign, trust or region.",
                        "If you think you should have access, ask your platform administrator to give you a role.",
                    ],
                    Some(("/admin", "Go to your admin home page")),
                )
            }
            Self::Refused(message) => forms::message_page(
                StatusCode::CONFLICT,
                "That could not be done",
                &[message.as_str()],
                Some(("/admin", "Go to your admin home page")),
            ),
            Self::NotConfigured => forms::message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Admin sign-in is not configured",
                &[
                    "This gateway has no sign-in provider, so nobody can sign in to the admin pages.",
                    "Set gateway.auth.issuer, client_id and client_secret (VALUED__GATEWAY__AUTH__ISSUER and so on) to turn it on.",
                ],
                Some(("/", "See the campaigns")),
            ),
        };
        shown.unwrap_or_else(IntoResponse::into_response)
    }
}

/// A signed-in admin's request: the clients, the ID token to forward and the page asked for (to
/// come back to after signing in again).
pub struct Signed {
    clients: Clients,
    token: String,
    path: String,
}

impl FromRequestParts<AdminState> for Signed {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        if state.oidc.is_none() {
            return Err(AdminError::NotConfigured);
        }
        let path = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        } else {
            "/admin".to_owned()
        };
        let token = session::id_token(&parts.headers)
            .ok_or_else(|| AdminError::SignIn { next: path.clone() })?;
        Ok(Self {
            clients: state.clients.clone(),
            token,
            path,
        })
    }
}

impl Signed {
    /// The nomination service's client.
    fn nomination(&self) -> NominationServiceClient<Traced> {
        self.clients.nomination.clone()
    }

    /// `message` carrying the caller's ID token.
    fn signed<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(value) = format!("Bearer {}", self.token).parse() {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// What a failed admin call shows.
    fn fail(&self, status: tonic::Status) -> AdminError {
        match status.code() {
            Code::Unauthenticated => AdminError::SignIn {
                next: self.path.clone(),
            },
            Code::PermissionDenied => AdminError::Denied,
            Code::FailedPrecondition | Code::AlreadyExists => {
                AdminError::Refused(status.message().to_owned())
            }
            _ => AdminError::Gateway(GatewayError::from_status(NOMINATION, status)),
        }
    }

    /// As [`Self::fail`], and invalid input shown as the service's message (forms without fields).
    fn refused(&self, status: tonic::Status) -> AdminError {
        if status.code() == Code::InvalidArgument {
            AdminError::Refused(status.message().to_owned())
        } else {
            self.fail(status)
        }
    }

    async fn campaign(&self, slug: &str) -> AdminResult<Campaign> {
        Ok(self.clients.campaign(slug).await?)
    }

    async fn campaigns(&self) -> AdminResult<Vec<Campaign>> {
        Ok(self
            .nomination()
            .list_campaigns(ListCampaignsRequest {})
            .await
            .map_err(|s| self.fail(s))?
            .into_inner()
            .campaigns)
    }
}

/// Field errors of an INVALID_ARGUMENT, or the failure to show instead.
fn field_errors(signed: &Signed, status: tonic::Status) -> AdminResult<Vec<FieldError>> {
    let errors = valued_platform::grpc::field_errors(&status);
    if errors.is_empty() {
        Err(signed.fail(status))
    } else {
        Ok(errors)
    }
}

/// The first value of `name` in a form read as pairs (one with repeated or numbered fields).
fn form_field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Checks a POSTed admin form's CSRF token; a mismatch sends the admin back to `back`.
fn check_csrf(headers: &HeaderMap, submitted: &str, back: &str) -> AdminResult<()> {
    forms::check_post(headers, submitted, "", || back.to_owned())?;
    Ok(())
}

/// A nomination as the admin pages show it.
#[derive(Debug, Serialize)]
struct NominationView {
    id: String,
    nominee_name: String,
    nominee_description: String,
    nominee_job_title: String,
    team: bool,
    category: String,
    trust: String,
    trust_code: String,
    staff_group: String,
    band: String,
    story: String,
    nominator_name: String,
    nominator_email: String,
    relationship: String,
    status: String,
    moderation_reason: String,
    submitted_on: String,
    nominee_id: String,
    match_reviewed: bool,
}

impl NominationView {
    fn new(nomination: &Nomination, campaign: &Campaign) -> Self {
        let label = |choices: &[valued_proto::nomination::v1::Choice], value: &str| {
            choices
                .iter()
                .find(|c| c.value == value)
                .map_or_else(|| value.to_owned(), |c| c.label.clone())
        };
        Self {
            id: nomination.id.clone(),
            nominee_name: nomination.nominee_name.clone(),
            nominee_description: nomination.nominee_description.clone(),
            nominee_job_title: nomination.nominee_job_title.clone(),
            team: nomination.team,
            category: campaign
                .categories
                .iter()
                .find(|c| c.id == nomination.category_id)
                .map_or_else(|| nomination.category_id.clone(), |c| c.name.clone()),
            trust: trust_name(campaign, &nomination.trust_code),
            trust_code: nomination.trust_code.clone(),
            staff_group: label(&campaign.staff_groups, &nomination.staff_group),
            band: label(&campaign.bands, &nomination.band),
            story: nomination.story.clone(),
            nominator_name: nomination.nominator_name.clone(),
            nominator_email: nomination.nominator_email.clone(),
            relationship: label(&campaign.relationships, &nomination.relationship),
            status: nomination.status.replace('_', " "),
            moderation_reason: nomination.moderation_reason.clone(),
            submitted_on: nomination
                .submitted_at
                .as_ref()
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                .map(|d| d.format("%-d %B %Y %H:%M").to_string())
                .unwrap_or_default(),
            nominee_id: nomination.nominee_id.clone(),
            match_reviewed: !nomination.match_reviewed_by.is_empty(),
        }
    }
}

fn trust_name(campaign: &Campaign, code: &str) -> String {
    campaign
        .trusts
        .iter()
        .find(|t| t.code == code)
        .map_or_else(|| code.to_owned(), |t| t.name.clone())
}
