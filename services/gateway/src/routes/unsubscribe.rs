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

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{AutoEscape, Environment, Value, context};
use serde::Deserialize;
use tonic::Code;
use valued_proto::notification::v1::{GetUnsubscribeRequest, UnsubscribeRequest};

use super::forms::{self, message_page};
use crate::clients::{Clients, NOTIFICATION};
use crate::error::{GatewayError, Result};
use crate::routes::page::segment;
use crate::{assets, templates};

const PAGE: &str = r#"{% extends "base.html" %}
{% block content %}
<div class="nhsuk-grid-row">
  <div class="nhsuk-grid-column-two-thirds">
    <h1>{{ page_title }}</h1>
    {% if unsubscribed %}
    <p>{{ masked_email }} is unsubscribed: we will not send it news about campaigns, finalists, winners or digests.</p>
    {% else %}
    <p>Stop news about campaigns, finalists, winners and digests to {{ masked_email }}.</p>
    <form method="post" action="{{ action }}" novalidate>
      <input type="hidden" name="List-Unsubscribe" value="One-Click">
      <input type="hidden" name="via" value="page">
      <button class="nhsuk-button" data-module="nhsuk-button" data-prevent-double-click="true" type="submit">
        Unsubscribe
      </button>
    </form>
    {% endif %}
    <p>You will still get emails you need for something you did, such as a link to confirm a nomination or a question about one.</p>
  </div>
</div>
{% endblock %}
"#;

/// The page's own environment, on the site's layout.
static PAGES: LazyLock<std::result::Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template("base.html", include_str!("../../templates/base.html"))
        .and_then(|()| env.add_template("unsubscribe.html", PAGE))
        .map_err(|e| format!("unsubscribe page: {e:#}"))?;
    env.add_global("service_name", templates::SERVICE_NAME);
    let asset = |name: &str| Value::from_safe_string(assets::url(name));
    env.add_global(
        "assets",
        context! {
            stylesheet => asset(assets::STYLESHEET),
            script => asset(assets::SCRIPT),
            favicon_ico => asset("images/favicon.ico"),
            favicon_svg => asset("images/favicon.svg"),
            mask_icon => asset("images/nhsuk-icon-mask.svg"),
            apple_touch_icon => asset("images/nhsuk-icon-180.png"),
            manifest => asset("manifest.json"),
        },
    );
    Ok(env)
});

fn render(token: &str, masked_email: &str, unsubscribed: bool) -> Result<Response> {
    let env = PAGES
        .as_ref()
        .map_err(|e| GatewayError::Internal(e.clone()))?;
    let title = if unsubscribed {
        "You are unsubscribed"
    } else {
        "Unsubscribe from Valued news"
    };
    let html = env.get_template("unsubscribe.html")?.render(context! {
        page_title => title,
        masked_email => masked_email,
        unsubscribed => unsubscribed,
        action => Value::from_safe_string(format!("/unsubscribe/{}", segment(token))),
    })?;
    Ok((StatusCode::OK, Html(html)).into_response())
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
