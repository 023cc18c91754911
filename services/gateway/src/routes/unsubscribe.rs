//! One-click unsubscribe (RFC 8058) from the link in every non-transactional email,
//! `/unsubscribe/{token}`.
//!
//! - `POST` records the opt-out at once. Mail providers send it (`List-Unsubscribe=One-Click`) with
//!   no cookies and no CSRF token, so neither is asked for: the unguessable token, sent only to its
//!   own address, is the whole authority, and the worst a forged POST can do is what the token's
//!   owner asked for. The page's button posts here too.
//! - `GET` only shows the page with the button: email scanners open links, people press buttons.
//!
//! Transactional emails (confirmation links, saved drafts, questions about a nomination) still go
//! after an unsubscribe; the page says so.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use tonic::Code;
use valued_proto::notification::v1::{GetUnsubscribeRequest, UnsubscribeRequest};

use super::forms::{self, message_page};
use crate::clients::{Clients, NOTIFICATION};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, segment};

fn render(token: &str, masked_email: &str, unsubscribed: bool) -> Result<Response> {
    let title = if unsubscribed {
        "You are unsubscribed"
    } else {
        "Unsubscribe from Valued news"
    };
    page::render(
        "unsubscribe.html",
        context! {
            page_title => title,
            masked_email => masked_email,
            unsubscribed => unsubscribed,
            action => Value::from_safe_string(format!("/unsubscribe/{}", segment(token))),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UnsubscribeForm {
    via: String,
}

/// `GET /unsubscribe/{token}`
pub async fn show(State(clients): State<Clients>, Path(token): Path<String>) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    let request = GetUnsubscribeRequest {
        token: token.clone(),
    };
    match clients.notification.clone().get_unsubscribe(request).await {
        Ok(found) => {
            let found = found.into_inner();
            render(&token, &found.masked_email, found.unsubscribed)
        }
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) => Err(GatewayError::from_status(NOTIFICATION, status)),
    }
}

/// `POST /unsubscribe/{token}`: the RFC 8058 one-click POST, or the page's button.
pub async fn unsubscribe(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    // Whatever else the body holds, the token decides; `via=page` only labels the record.
    let form: UnsubscribeForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let request = UnsubscribeRequest {
        token: token.clone(),
        one_click: form.via != "page",
    };
    match clients.notification.clone().unsubscribe(request).await {
        Ok(done) => render(&token, &done.into_inner().masked_email, true),
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) => Err(GatewayError::from_status(NOTIFICATION, status)),
    }
}

fn not_found() -> Result<Response> {
    message_page(
        StatusCode::NOT_FOUND,
        "This unsubscribe link does not work",
        &["Check that you used the whole link from the email."],
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_renders_and_escapes() {
        let page = render("abc", "s***@<b>.org", false).unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
}
