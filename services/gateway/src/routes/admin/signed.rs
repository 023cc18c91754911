//! The signed-in admin's request ([`Signed`]), what an admin page shows when it cannot be shown
//! ([`AdminError`]), and the checks every admin form goes through.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{
    Campaign, GetShortlistRequest, GetShortlistResponse, ListCampaignsRequest, WhoAmIRequest,
    WhoAmIResponse,
};

use crate::clients::{Clients, NOMINATION, Traced};
use crate::error::GatewayError;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::session::{self, AuthSettings, Oidc};

#[derive(Clone)]
pub struct AdminState {
    pub(super) clients: Clients,
    /// `None` when admins cannot sign in at all (no provider, no emailed links).
    pub(super) oidc: Option<Arc<Oidc>>,
}

impl AdminState {
    pub(super) fn new(clients: Clients, auth: &AuthSettings) -> Self {
        Self {
            clients,
            oidc: auth.enabled().then(|| Arc::new(Oidc::new(auth.clone()))),
        }
    }
}

impl FromRef<AdminState> for Clients {
    fn from_ref(state: &AdminState) -> Self {
        state.clients.clone()
    }
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
                    "This gateway has no sign-in provider and does not offer emailed sign-in links, so nobody can sign in to the admin pages.",
                    "Set gateway.auth.issuer, client_id and client_secret (VALUED__GATEWAY__AUTH__ISSUER and so on) for single sign-on, or gateway.auth.email_links with nomination.auth.signing_key for emailed links.",
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
    pub(super) clients: Clients,
    token: String,
    path: String,
    /// Where browsers reach this site, for links printed or emailed from an admin page.
    public_url: String,
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
        let public_url = state
            .oidc
            .as_ref()
            .map(|oidc| oidc.public_base(&parts.headers))
            .unwrap_or_default();
        Ok(Self {
            clients: state.clients.clone(),
            token,
            path,
            public_url,
        })
    }
}

impl Signed {
    /// Whether the caller signed in a moment ago. A first sign-in binds the caller's grants in
    /// the nomination service, and the other services' copies of the grants learn of them an
    /// event later: a refusal then is worth trying again. Read from the ID token's `iat` without
    /// checking its signature, which only decides whether to ask again (the service that
    /// answers checks the token itself).
    pub(super) fn just_signed_in(&self) -> bool {
        issued_at(&self.token).is_some_and(|issued| {
            let age = chrono::Utc::now().timestamp() - issued;
            (-JUST_SIGNED_IN_SECONDS..=JUST_SIGNED_IN_SECONDS).contains(&age)
        })
    }

    /// Where browsers reach this site (no trailing `/`).
    pub(super) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The nomination service's client.
    pub(super) fn nomination(&self) -> NominationServiceClient<Traced> {
        self.clients.nomination.clone()
    }

    /// Who the nomination service says the caller is, with their grants.
    pub(super) async fn who_am_i(&self) -> AdminResult<WhoAmIResponse> {
        Ok(self
            .nomination()
            .who_am_i(self.signed(WhoAmIRequest {}))
            .await
            .map_err(|s| self.fail(s))?
            .into_inner())
    }

    /// The roles the nomination service says the caller holds (`platform_admin`, `trust_admin`,
    /// …), one per grant.
    pub(super) async fn roles(&self) -> AdminResult<Vec<String>> {
        Ok(self
            .who_am_i()
            .await?
            .grants
            .into_iter()
            .map(|g| g.role)
            .collect())
    }

    /// `message` carrying the caller's ID token.
    pub(super) fn signed<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(value) = format!("Bearer {}", self.token).parse() {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// What a failed admin call shows.
    pub(super) fn fail(&self, status: tonic::Status) -> AdminError {
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
    pub(super) fn refused(&self, status: tonic::Status) -> AdminError {
        if status.code() == Code::InvalidArgument {
            AdminError::Refused(status.message().to_owned())
        } else {
            self.fail(status)
        }
    }

    pub(super) async fn campaign(&self, slug: &str) -> AdminResult<Campaign> {
        Ok(self.clients.campaign(slug).await?)
    }

    /// A category's shortlist and its judges' progress, as the caller may see them.
    pub(super) async fn shortlist(
        &self,
        campaign: &Campaign,
        category_id: &str,
    ) -> AdminResult<GetShortlistResponse> {
        Ok(self
            .nomination()
            .get_shortlist(self.signed(GetShortlistRequest {
                campaign_id: campaign.id.clone(),
                category_id: category_id.to_owned(),
            }))
            .await
            .map_err(|s| self.fail(s))?
            .into_inner())
    }

    pub(super) async fn campaigns(&self) -> AdminResult<Vec<Campaign>> {
        Ok(self
            .nomination()
            .list_campaigns(ListCampaignsRequest {})
            .await
            .map_err(|s| self.fail(s))?
            .into_inner()
            .campaigns)
    }
}

/// How long after signing in a refusal by a service's copy of the grants is tried again for (see
/// [`Signed::just_signed_in`]).
const JUST_SIGNED_IN_SECONDS: i64 = 10;

/// The `iat` claim of a JWT, unverified.
fn issued_at(token: &str) -> Option<i64> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Claims {
        iat: i64,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    Some(serde_json::from_slice::<Claims>(&bytes).ok()?.iat)
}

/// Field errors of an INVALID_ARGUMENT, or the failure to show instead.
pub(super) fn field_errors(signed: &Signed, status: tonic::Status) -> AdminResult<Vec<FieldError>> {
    let errors = valued_platform::grpc::field_errors(&status);
    if errors.is_empty() {
        Err(signed.fail(status))
    } else {
        Ok(errors)
    }
}

/// The first value of `name` in a form read as pairs (one with repeated or numbered fields).
pub(super) fn form_field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Checks a POSTed admin form's CSRF token; a mismatch sends the admin back to `back`.
pub(super) fn check_csrf(headers: &HeaderMap, submitted: &str, back: &str) -> AdminResult<()> {
    forms::check_post(headers, submitted, "", || back.to_owned())?;
    Ok(())
}

/// A CSV file to download, named `<campaign slug>-<what>.csv` (the slug's characters other than
/// letters, digits and `-` as `_`, so the name needs no quoting rules).
pub(super) fn csv_download(
    slug: &str,
    what: &str,
    body: Vec<u8>,
) -> Result<Response, GatewayError> {
    let filename: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}-{what}.csv\""))
            .map_err(|e| GatewayError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::issued_at;

    fn token(claims: &str) -> String {
        let part = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", part(r#"{"alg":"RS256"}"#), part(claims))
    }

    #[test]
    fn the_issue_time_is_read_from_the_token() {
        assert_eq!(
            issued_at(&token(r#"{"sub":"a","iat":1790000000,"exp":1790003600}"#)),
            Some(1_790_000_000)
        );
    }

    #[test]
    fn a_token_without_a_readable_issue_time_is_not_fresh() {
        assert_eq!(issued_at(&token(r#"{"sub":"a"}"#)), None);
        assert_eq!(issued_at("not-a-token"), None);
        assert_eq!(issued_at("a.!!!.c"), None);
    }
}

/// An admin form that is only a button: its CSRF token and nothing else.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ButtonForm {
    pub csrf_token: String,
}

/// A page's query after a form sent the browser back to it: what was just done, for its banner.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    pub done: String,
}
