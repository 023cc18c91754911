//! Signing in and out, and the admin home page: who you are, your roles, the campaigns.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_proto::nomination::v1::WhoAmIRequest;

use super::signed::{
    AdminError, AdminResult, AdminState, ButtonForm, DoneQuery, Signed, check_csrf,
};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::session::{self, SignInError};
use crate::templates;

#[derive(Debug, Serialize)]
struct RoleView {
    role: &'static str,
    scope: String,
    /// The trust's audit log, for trust admins.
    audit_path: Option<String>,
    /// The trust's settings, for trust admins.
    settings_path: Option<String>,
    /// The trust's learning and career routes, for trust admins.
    routes_path: Option<String>,
}

/// A role's name as pages show it.
pub(super) fn role_name(role: &str) -> &'static str {
    match role {
        "platform_admin" => "Platform administrator",
        "region_admin" => "Regional administrator",
        "trust_admin" => "Trust administrator",
        "judge" => "Judge",
        _ => "Other role",
    }
}

/// `GET /admin`
pub async fn index(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "campaign-changed" => Some("Campaign changed"),
        _ => None,
    };
    let me = signed
        .nomination()
        .who_am_i(signed.signed(WhoAmIRequest {}))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner();
    let campaigns = signed.campaigns().await?;
    let roles: Vec<RoleView> = me
        .grants
        .iter()
        .map(|g| RoleView {
            role: role_name(&g.role),
            scope: match g.role.as_str() {
                "judge" => campaigns
                    .iter()
                    .find(|c| c.id == g.scope)
                    .map_or_else(|| g.scope.clone(), |c| c.name.clone()),
                _ => g.scope.clone(),
            },
            audit_path: (g.role == "trust_admin")
                .then(|| format!("/admin/trusts/{}/audit", segment(&g.scope))),
            settings_path: (g.role == "trust_admin")
                .then(|| format!("/admin/trusts/{}/settings", segment(&g.scope))),
            routes_path: (g.role == "trust_admin")
                .then(|| format!("/admin/trusts/{}/routes", segment(&g.scope))),
        })
        .collect();
    let platform_admin = me.grants.iter().any(|g| g.role == "platform_admin");
    // Judges manage nobody's roles; every other admin may manage some (the page says whose).
    let manages_roles = me.grants.iter().any(|g| g.role != "judge");
    // Any admin may run some campaign's public vote; the voting service says whose.
    let runs_votes = me.grants.iter().any(|g| {
        matches!(
            g.role.as_str(),
            "platform_admin" | "region_admin" | "trust_admin"
        )
    });
    let campaigns: Vec<CampaignView> = campaigns.iter().map(CampaignView::from).collect();
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/home.html",
            context! {
                page_title => "Admin",
                done => done,
                email => me.email,
                name => me.name,
                roles => roles,
                platform_admin => platform_admin,
                manages_roles => manages_roles,
                runs_votes => runs_votes,
                campaigns => campaigns,
                csrf_token => csrf_token,
            },
        )
    })?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    next: String,
    /// "yes": straight to the provider, past the page that also offers an emailed link.
    provider: String,
}

/// `GET /admin/sign-in`: off to the provider, or, where emailed links are offered, a page that
/// asks for an address (with the provider's button beside it when there is one).
pub async fn sign_in(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> AdminResult<Response> {
    let oidc = state.oidc.clone().ok_or(AdminError::NotConfigured)?;
    if oidc.email_links() && (query.provider != "yes" || !oidc.has_provider()) {
        return Ok(super::email_sign_in::page(
            &state,
            &headers,
            &query.next,
            "",
            &[],
        )?);
    }
    match oidc.begin(&headers, &query.next).await {
        Ok((url, cookie)) => {
            let mut response = see_other(&url)?;
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot start a sign-in");
            Ok(provider_down()?)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
}

/// `GET /admin/callback`: back from the provider.
pub async fn callback(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AdminResult<Response> {
    let oidc = state.oidc.ok_or(AdminError::NotConfigured)?;
    let result = if query.error.is_empty() {
        oidc.finish(&headers, &query.code, &query.state).await
    } else {
        Err(SignInError::Refused(query.error.clone()))
    };
    let mut response = match result {
        Ok((id_token, next)) => {
            tracing::info!("admin signed in");
            let mut response = see_other(&next)?;
            response
                .headers_mut()
                .append(header::SET_COOKIE, oidc.session_cookie(&id_token));
            response
        }
        Err(SignInError::Provider(error)) => {
            tracing::warn!(%error, "sign-in provider unreachable");
            provider_down()?
        }
        Err(error) => {
            tracing::info!(%error, "sign-in refused");
            forms::message_page(
                StatusCode::BAD_REQUEST,
                "You could not be signed in",
                &["The sign-in was cancelled, took too long, or was started in another browser."],
                Some(("/admin/sign-in", "Try signing in again")),
            )?
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, oidc.clear_flow_cookie());
    Ok(response)
}

fn provider_down() -> crate::Result<Response> {
    forms::message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sorry, you cannot sign in at the moment",
        &["The sign-in service is not answering. Try again later."],
        None,
    )
}

/// `POST /admin/sign-out`: forgets the ID token.
pub async fn sign_out(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, "/admin")?;
    let mut response = see_other("/")?.into_response();
    if let Some(oidc) = state.oidc {
        for cookie in oidc.clear_cookies() {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    if session::id_token(&headers).is_some() {
        tracing::info!("admin signed out");
    }
    Ok(response)
}
