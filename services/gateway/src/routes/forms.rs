//! What every public form of the gateway does: the CSRF double-submit token (a cookie, repeated in a
//! hidden field) and the honeypot field that people never see. A public POST handler takes its form
//! as a [`PublicForm`], which does both before the handler runs.

use axum::RequestExt;
use axum::body::Bytes;
use axum::extract::{FromRequest, RawPathParams, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use valued_platform::domain::FieldError;

use crate::csrf;
use crate::error::{GatewayError, Result};
use crate::routes::page;

/// The honeypot: a field people never see. A bot that fills it in is thanked and ignored.
pub const HONEYPOT: &str = "website";

/// Who sent a form that passed the CSRF check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Person,
    /// The honeypot was filled in: thank it, and do nothing.
    Bot,
}

/// Checks a POSTed form: its CSRF field must repeat the cookie (else `Forbidden`, pointing at `form`,
/// where to fill it in again), and a filled-in honeypot marks a bot.
pub fn check_post(
    headers: &HeaderMap,
    csrf_token: &str,
    honeypot: &str,
    form: impl FnOnce() -> String,
) -> Result<Sender> {
    if !csrf::verify(headers, csrf_token) {
        return Err(GatewayError::Forbidden { form: form() });
    }
    if honeypot.trim().is_empty() {
        Ok(Sender::Person)
    } else {
        tracing::info!("honeypot filled in: form discarded");
        Ok(Sender::Bot)
    }
}

/// A public form's own fields. The CSRF field and the honeypot every public form also carries are
/// read by [`PublicForm`] itself, so a form type need not declare them.
pub trait PublicPost: DeserializeOwned {
    /// What the form is called in the log when its body does not parse ("confirm form").
    const NAME: &'static str;

    /// Where to fill the form in again when its CSRF token fails: the page it was posted from
    /// (`path`, as requested), unless the form says otherwise from the (decoded) path parameters.
    fn back(path: &str, _params: &PathParams) -> String {
        path.to_owned()
    }
}

/// The fields every public form carries besides its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Guard {
    csrf_token: String,
    website: String,
}

/// A form that is only a button (confirm this, send that): nothing of its own.
#[derive(Debug, Default, Deserialize)]
pub struct Button {}

impl PublicPost for Button {
    const NAME: &'static str = "button form";
}

/// The decoded parameters of a request's path, by name.
#[derive(Debug, Default)]
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    /// The parameter `name`, or `""` when the path has none of that name.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// A public POST: the body parsed into `T` (a 400 when it does not parse), the CSRF field checked
/// against the cookie (a 403 pointing back at the form when it does not match, or is malformed), and
/// who sent it (a filled-in honeypot is a [`Sender::Bot`]).
#[derive(Debug)]
pub struct PublicForm<T> {
    pub form: T,
    pub sender: Sender,
}

impl<S, T> FromRequest<S> for PublicForm<T>
where
    S: Send + Sync,
    T: PublicPost,
{
    type Rejection = Response;

    async fn from_request(mut request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let path = request.uri().path().to_owned();
        // A route without parameters has none to give.
        let params = request
            .extract_parts::<RawPathParams>()
            .await
            .map(|raw| {
                PathParams(
                    raw.iter()
                        .map(|(name, value)| (name.to_owned(), value.to_owned()))
                        .collect(),
                )
            })
            .unwrap_or_default();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bad = |e: serde_urlencoded::de::Error| {
            GatewayError::BadRequest(format!("{}: {e}", T::NAME)).into_response()
        };
        let guard: Guard = serde_urlencoded::from_bytes(&body).map_err(bad)?;
        let form: T = serde_urlencoded::from_bytes(&body).map_err(bad)?;
        let sender = check_post(&headers, &guard.csrf_token, &guard.website, || {
            T::back(&path, &params)
        })
        .map_err(IntoResponse::into_response)?;
        Ok(Self { form, sender })
    }
}

/// A page with a form: `render` gets the CSRF token to put in the form (the browser's own, or a new
/// one whose cookie the response sets).
pub fn form_page(
    headers: &HeaderMap,
    status: StatusCode,
    render: impl FnOnce(&str) -> std::result::Result<String, minijinja::Error>,
) -> Result<Response> {
    let (token, set_cookie) = csrf::token_for(headers);
    let mut response = (status, Html(render(token.as_str())?)).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A page that is only a button, posting to `action`: what an email link opens, since opening a link
/// (as mail scanners do) must never act by itself.
pub fn button_page(
    headers: &HeaderMap,
    template: &str,
    page_title: &str,
    action: &str,
) -> Result<Response> {
    form_page(headers, StatusCode::OK, |csrf_token| {
        crate::templates::render(
            template,
            minijinja::context! {
                page_title => page_title,
                action => action,
                csrf_token => csrf_token,
            },
        )
    })
}

/// A form page shows 400 while it lists errors, 200 otherwise.
pub fn status_for(errors: &[FieldError]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// Whether a path segment can be an id or a token from an email link: 1 to 128 letters, digits, `-`
/// and `_`. Anything else is not worth asking a service about.
pub fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a service answered about a link's token: `None` for NOT_FOUND (an unknown, used or expired
/// link), which the page says it cannot open; an error for anything else.
pub fn found<T>(
    service: &'static str,
    answer: std::result::Result<tonic::Response<T>, tonic::Status>,
) -> Result<Option<T>> {
    match answer {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(GatewayError::from_status(service, status)),
    }
}

/// A page that only tells something (a link that no longer works, say), in the error page's layout.
pub fn message_page(
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Result<Response> {
    let page = minijinja::context! {
        title => title,
        paragraphs => paragraphs,
        link => link.map(|(href, text)| minijinja::context! { href => href, text => text }),
    };
    page::render_with_status(
        status,
        "error.html",
        minijinja::context! { page_title => title, page => page },
    )
}

/// One entry of the NHS.UK error summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryError {
    /// The id of the input to link to; empty for an error of the whole form.
    pub field: String,
    pub message: String,
}

/// The error summary of a page whose inputs are `fields` (in page order, each the id of its input):
/// errors of those fields in that order, linked, then any others, unlinked. `anchor` maps a field the
/// service names to the input that answers it.
pub fn summary(
    errors: &[FieldError],
    fields: &[&str],
    anchor: impl Fn(&str) -> Option<&'static str>,
) -> Vec<SummaryError> {
    let mut summary: Vec<SummaryError> = errors
        .iter()
        .map(|e| {
            let field = anchor(&e.field)
                .map(str::to_owned)
                .or_else(|| fields.contains(&e.field.as_str()).then(|| e.field.clone()))
                .unwrap_or_default();
            SummaryError {
                field,
                message: e.message.clone(),
            }
        })
        .collect();
    summary.sort_by_key(|e| {
        fields
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(fields.len())
    });
    summary
}

/// The first message of each field in `summary`, for the message beside its input.
pub fn by_field(summary: &[SummaryError]) -> std::collections::HashMap<String, String> {
    let mut messages = std::collections::HashMap::new();
    for error in summary {
        if !error.field.is_empty() {
            messages
                .entry(error.field.clone())
                .or_insert_with(|| error.message.clone());
        }
    }
    messages
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_plain_segments() {
        assert!(is_token("0193a1b2-0000-7000-8000-000000000001"));
        assert!(is_token("Ab_9-x"));
        assert!(!is_token(""));
        assert!(!is_token("a/b"));
        assert!(!is_token("a%2Fb"));
        assert!(!is_token(&"a".repeat(129)));
    }

    #[test]
    fn the_summary_follows_the_page_and_links_only_its_fields() {
        let errors = vec![
            FieldError::new("b", "Second"),
            FieldError::new("campaign_id", "Closed"),
            FieldError::new("team", "Choose"),
            FieldError::new("a", "First"),
        ];
        let summary = summary(&errors, &["kind", "a", "b"], |f| {
            (f == "team").then_some("kind")
        });
        let order: Vec<(&str, &str)> = summary
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("kind", "Choose"),
                ("a", "First"),
                ("b", "Second"),
                ("", "Closed")
            ]
        );
        let fields = by_field(&summary);
        assert_eq!(fields["a"], "First");
        assert!(!fields.contains_key(""));
    }
}
