//! The nominator confirms their email from the link in it, `/confirm/{token}`: the nomination counts
//! only then. Opening the link only shows a button: email scanners open links, people press buttons.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use tonic::Code;
use valued_proto::nomination::v1::ConfirmNominationRequest;

use super::forms::{self, Button, PublicForm, Sender};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, segment};

/// `GET /confirm/{token}`
pub async fn show(Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    forms::button_page(
        &headers,
        "confirm.html",
        "Confirm your nomination",
        &format!("/confirm/{}", segment(&token)),
    )
}

/// `POST /confirm/{token}`
pub async fn confirm(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    PublicForm { sender, .. }: PublicForm<Button>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    if sender == Sender::Bot {
        return confirmed("", "", true);
    }
    let confirmed_nomination = clients
        .nomination
        .clone()
        .confirm_nomination(ConfirmNominationRequest {
            confirm_token: token,
        })
        .await;
    match confirmed_nomination {
        Ok(response) => {
            let response = response.into_inner();
            tracing::info!(
                newly = response.newly_confirmed,
                "nomination confirmed by its nominator"
            );
            confirmed(
                &response.nominee_name,
                &response.campaign_slug,
                response.newly_confirmed,
            )
        }
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) => Err(GatewayError::from_status(NOMINATION, status)),
    }
}

fn confirmed(nominee_name: &str, campaign_slug: &str, newly: bool) -> Result<Response> {
    page::render(
        "confirmed.html",
        context! {
            page_title => if newly { "Nomination confirmed" } else { "Nomination already confirmed" },
            nominee_name => nominee_name,
            newly => newly,
            campaign_path => (!campaign_slug.is_empty()).then(|| format!("/campaigns/{}", segment(campaign_slug))),
        },
    )
}

fn not_found() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This confirmation link does not work",
        &[
            "Check that you opened the whole link from the email we sent you.",
            "If it still does not work, the nomination may have been removed. You can send a new one.",
        ],
        Some(("/", "See the campaigns you can nominate someone for")),
    )
}
