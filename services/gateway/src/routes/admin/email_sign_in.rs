//! Sign-in by emailed link, for organisations without single sign-on and for the embedded default
//! (`gateway.auth.email_links`): the admin gives their work address on the sign-in page, the
//! nomination service emails a single-use link to it if it holds an admin role (and says the same
//! to every address), and the link opens a page whose button (never the link itself: mail
//! scanners open links) exchanges it for an ID token the nomination service signs. That token goes
//! into the same session cookie as a provider's, and ends in the same role checks.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{RedeemSignInLinkRequest, RequestSignInLinkRequest};

use super::signed::{AdminError, AdminResult, AdminState};
use crate::clients::NOMINATION;
use crate::error::{GatewayError, rate_limited};
use crate::routes::forms::{self, Button, PublicForm, PublicPost, Sender};
use crate::routes::page::{see_other, segment};
use crate::session;
use crate::templates;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    pub next: String,
}

/// The sign-in page: an address for a link, and the provider's button when there is one.
pub(super) fn page(
    state: &AdminState,
    headers: &HeaderMap,
    next: &str,
    email: &str,
    errors: &[FieldError],
) -> crate::Result<Response> {
    let has_provider = state.oidc.as_ref().is_some_and(|o| o.has_provider());
    let next = session::admin_path(next);
    let provider_url = format!(
        "/admin/sign-in?{}",
        serde_urlencoded::to_string([("provider", "yes"), ("next", next)]).unwrap_or_default()
    );
    let summary = forms::summary(errors, &["email"], |_| None);
    let status = forms::status_for(errors);
    forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/sign_in.html",
            context! {
                page_title => "Sign in",
                next => next,
                provider_url => provider_url,
                email => email,
                has_provider => has_provider,
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    next: String,
}

impl PublicPost for EmailForm {
    const NAME: &'static str = "sign-in form";
}

/// `POST /admin/sign-in/email`: ask for a link.
pub async fn request(
    State(state): State<AdminState>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<EmailForm>,
) -> AdminResult<Response> {
    if !state.oidc.as_ref().is_some_and(|o| o.email_links()) {
        return Err(AdminError::NotConfigured);
    }
    if sender == Sender::Bot {
        return Ok(check_your_email()?);
    }
    let asked = state
        .clients
        .nomination
        .clone()
        .request_sign_in_link(RequestSignInLinkRequest {
            email: form.email.clone(),
        })
        .await;
    match asked {
        Ok(_) => Ok(check_your_email()?),
        Err(status) => {
            let errors = match status.code() {
                Code::InvalidArgument => valued_platform::grpc::field_errors(&status),
                _ if rate_limited(&status) => vec![FieldError::new("email", status.message())],
                _ => {
                    return Err(AdminError::Gateway(GatewayError::from_status(
                        NOMINATION, status,
                    )));
                }
            };
            Ok(page(&state, &headers, &form.next, &form.email, &errors)?)
        }
    }
}

fn check_your_email() -> crate::Result<Response> {
    forms::message_page(
        StatusCode::OK,
        "Check your email",
        &[
            "If that address belongs to an organiser, judge or administrator, we have emailed it a link to sign in. It works once, and soon expires.",
            "No email? Check the address, look in your junk folder, or ask whoever invited you which address they used.",
        ],
        Some(("/admin/sign-in", "Sign in with another address")),
    )
}

/// `GET /admin/sign-in/email/{token}`: a button, since opening the link must not sign in by itself.
pub async fn show_link(
    State(state): State<AdminState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Query(_): Query<SignInQuery>,
) -> AdminResult<Response> {
    if !state.oidc.as_ref().is_some_and(|o| o.email_links()) {
        return Err(AdminError::NotConfigured);
    }
    if !forms::is_token(&token) {
        return Ok(link_not_found()?);
    }
    Ok(forms::form_page(&headers, StatusCode::OK, |csrf_token| {
        templates::render(
            "admin/sign_in_link.html",
            context! {
                page_title => "Sign in to Valued",
                action => format!("/admin/sign-in/email/{}", segment(&token)),
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// `POST /admin/sign-in/email/{token}`: the link used, once; signed in.
pub async fn use_link(
    State(state): State<AdminState>,
    Path(token): Path<String>,
    PublicForm { sender, .. }: PublicForm<Button>,
) -> AdminResult<Response> {
    let Some(oidc) = state.oidc.as_ref().filter(|o| o.email_links()) else {
        return Err(AdminError::NotConfigured);
    };
    if sender == Sender::Bot || !forms::is_token(&token) {
        return Ok(link_not_found()?);
    }
    let redeemed = state
        .clients
        .nomination
        .clone()
        .redeem_sign_in_link(RedeemSignInLinkRequest { token })
        .await;
    match redeemed {
        Ok(answer) => {
            tracing::info!("admin signed in by emailed link");
            let mut response = see_other("/admin")?;
            response.headers_mut().append(
                header::SET_COOKIE,
                oidc.session_cookie(&answer.into_inner().id_token),
            );
            Ok(response)
        }
        Err(status) if status.code() == Code::NotFound => Ok(link_not_found()?),
        Err(status) => Err(AdminError::Gateway(GatewayError::from_status(
            NOMINATION, status,
        ))),
    }
}

fn link_not_found() -> crate::Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This sign-in link has expired or been used",
        &["A sign-in link works once, and soon expires. Ask for a new one."],
        Some(("/admin/sign-in", "Sign in again")),
    )
}
