//! What can go wrong in the gateway, and the NHS.UK-style page each shows. Details stay in the logs.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tonic::{Code, Status};

use crate::templates;

pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("page not found")]
    NotFound,
    /// A form came back without the CSRF token of its cookie. `form` is where to fill it in again.
    #[error("the CSRF token of the form does not match its cookie")]
    Forbidden { form: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A service did not answer (down, unreachable, overloaded or too slow).
    #[error("{service} is unavailable: {status}")]
    Unavailable {
        service: &'static str,
        status: Status,
    },
    /// A service answered with an error the page cannot explain to the user.
    #[error("{service} failed: {status}")]
    Upstream {
        service: &'static str,
        status: Status,
    },
    #[error("template: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("{0}")]
    Internal(String),
}

impl GatewayError {
    /// Classifies the failure of a call to `service`.
    pub fn from_status(service: &'static str, status: Status) -> Self {
        match status.code() {
            Code::NotFound => Self::NotFound,
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Cancelled => Self::Unavailable { service, status },
            _ => Self::Upstream { service, status },
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream { .. } | Self::Template(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::NotFound => ErrorPage {
                title: "Page not found",
                paragraphs: &[
                    "If you typed the web address, check it was correct.",
                    "If you pasted the web address, check you copied the entire address.",
                ],
                link: Some(Link {
                    href: "/".into(),
                    text: "See the campaigns you can nominate someone for",
                }),
            },
            Self::Forbidden { form } => ErrorPage {
                title: "Sorry, your form could not be sent",
                paragraphs: &[
                    "This can happen if you opened the form a long time ago, in another browser, or with cookies turned off.",
                    "Nothing you entered has been sent.",
                ],
                link: Some(Link {
                    href: form.clone(),
                    text: "Go back to the form and try again",
                }),
            },
            Self::BadRequest(_) => ErrorPage {
                title: "Sorry, we could not understand your request",
                paragraphs: &["Go back and try again."],
                link: None,
            },
            Self::Unavailable { .. }
            | Self::Upstream { .. }
            | Self::Template(_)
            | Self::Internal(_) => ErrorPage {
                title: "Sorry, there is a problem with the service",
                paragraphs: &["Try again later."],
                link: None,
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorPage {
    title: &'static str,
    paragraphs: &'static [&'static str],
    link: Option<Link>,
}

#[derive(Serialize)]
struct Link {
    href: String,
    text: &'static str,
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            Self::NotFound => tracing::debug!("not found"),
            Self::Forbidden { .. } | Self::BadRequest(_) => {
                tracing::info!(error = %self, "refused")
            }
            Self::Unavailable { .. } => tracing::warn!(error = %self, "dependency unavailable"),
            _ => tracing::error!(error = %self, "request failed"),
        }
        let page = self.page();
        let context = minijinja::context! {
            page_title => page.title,
            page => page,
        };
        match templates::render("error.html", context) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(error = %error, "cannot render the error page");
                (status, page_title_only(status)).into_response()
            }
        }
    }
}

fn page_title_only(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Sorry, your form could not be sent",
        StatusCode::BAD_REQUEST => "Sorry, we could not understand your request",
        _ => "Sorry, there is a problem with the service",
    }
}
