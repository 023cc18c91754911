//! A nominee thanked through their manager follows the link the manager passed on,
//! `/claim/{token}`, and gives an email address of their own: Valued emails that address a link to
//! choose what is shared about them. Only the nominee can answer, so the address that passed the
//! link on (the trust's contact) is refused.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_proto::nomination::v1::{
    ClaimNomineeRequest, GetNomineeClaimRequest, GetNomineeClaimResponse,
};

use super::forms::{self, PublicForm, PublicPost, Sender, form_page, status_for};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::page::{self, segment};
use crate::templates;

/// The page's one input.
const EMAIL: &str = "email";

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ClaimForm {
    email: String,
}

impl PublicPost for ClaimForm {
    const NAME: &'static str = "claim form";
}

/// `GET /claim/{token}`
pub async fn show(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some(nominee) = nominee(&clients, &token).await? else {
        return not_found();
    };
    render(&headers, &token, &nominee, &ClaimForm::default(), &[])
}

/// `POST /claim/{token}`
pub async fn claim(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<ClaimForm>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    let address = match EmailAddress::parse(EMAIL, &form.email) {
        Ok(address) => address,
        Err(error) => return again(&clients, &headers, &token, &form, &[error]).await,
    };
    if sender == Sender::Bot {
        return sent(address.as_str());
    }
    let claimed = clients
        .nomination
        .clone()
        .claim_nominee(ClaimNomineeRequest {
            claim_token: token.clone(),
            email: address.as_str().to_owned(),
        })
        .await;
    match claimed {
        Ok(_) => {
            tracing::info!("nominee gave their own address");
            sent(address.as_str())
        }
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            again(&clients, &headers, &token, &form, &errors).await
        }
        Err(status) if rate_limited(&status) => {
            let errors = [FieldError::new("", status.message())];
            again(&clients, &headers, &token, &form, &errors).await
        }
        Err(status) => Err(GatewayError::from_status(NOMINATION, status)),
    }
}

/// The form again, with what was typed and what is wrong with it.
async fn again(
    clients: &Clients,
    headers: &HeaderMap,
    token: &str,
    form: &ClaimForm,
    errors: &[FieldError],
) -> Result<Response> {
    let Some(nominee) = nominee(clients, token).await? else {
        return not_found();
    };
    render(headers, token, &nominee, form, errors)
}

/// The nominee the claim link is for; `None` for an unknown or expired one.
async fn nominee(clients: &Clients, token: &str) -> Result<Option<GetNomineeClaimResponse>> {
    if !forms::is_token(token) {
        return Ok(None);
    }
    let answer = clients
        .nomination
        .clone()
        .get_nominee_claim(GetNomineeClaimRequest {
            claim_token: token.to_owned(),
        })
        .await;
    forms::found(NOMINATION, answer)
}

fn render(
    headers: &HeaderMap,
    token: &str,
    nominee: &GetNomineeClaimResponse,
    form: &ClaimForm,
    errors: &[FieldError],
) -> Result<Response> {
    form_page(headers, status_for(errors), |csrf_token| {
        page_html(token, nominee, form, errors, csrf_token)
    })
}

fn page_html(
    token: &str,
    nominee: &GetNomineeClaimResponse,
    form: &ClaimForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> std::result::Result<String, minijinja::Error> {
    let summary = forms::summary(errors, &[EMAIL], |_| None);
    templates::render(
        "claim.html",
        context! {
            page_title => "Get your own link",
            nominee_name => nominee.nominee_name,
            campaign_name => nominee.campaign_name,
            trust_name => nominee.trust_name,
            email => form.email,
            action => format!("/claim/{}", segment(token)),
            csrf_token => csrf_token,
            field_errors => forms::by_field(&summary),
            errors => summary,
        },
    )
}

fn sent(email: &str) -> Result<Response> {
    page::render(
        "claim_sent.html",
        context! { page_title => "Check your email", email => email },
    )
}

fn not_found() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        &[
            "Check that you opened the whole link from the email that was passed on to you.",
            "The link works for 30 days. If it no longer works, contact the campaign team at your \
             trust.",
        ],
        None,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_page_asks_the_nominee_for_their_own_address() {
        let nominee = GetNomineeClaimResponse {
            nominee_name: "Sam <b>Patel</b>".into(),
            campaign_name: "Health Heroes 2026".into(),
            trust_name: "Guy's and St Thomas'".into(),
        };
        let form = ClaimForm {
            email: "sam@example.org\"><script>".into(),
        };
        let errors = [FieldError::new(EMAIL, "Enter your own email address")];
        let html = page_html("tok", &nominee, &form, &errors, "csrf").unwrap();
        assert!(html.contains("Sam &lt;b&gt;Patel&lt;&#x2f;b&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains(r#"id="email""#));
        assert!(html.contains(r#"type="email""#));
        assert!(html.contains(r##"<a href="#email">Enter your own email address</a>"##));
        assert!(html.contains(r#"action="/claim/tok""#));
    }
}
