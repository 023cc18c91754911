//! What can go wrong in the gateway, and the NHS.UK-style page each shows. Details stay in the logs.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::templates;

pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

/// What a refused request is told to wait, in seconds, when the gateway is too busy.
const OVERLOADED_RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("page not found")]
    NotFound,
    /// A form came back without the CSRF token of its cookie. `form` is where to fill it in again.
    #[error("the CSRF token of the form does not match its cookie")]
    Forbidden { form: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A service's rate limit refused the action: too many from the client's network (the status
    /// carries how long to wait).
    #[error("{service} refused: {status}")]
    TooManyRequests {
        service: &'static str,
        status: Status,
    },
    /// A service did not answer (down, unreachable, overloaded or too slow).
    #[error("{service} is unavailable: {status}")]
    Unavailable {
        service: &'static str,
        status: Status,
    },
    /// A form's submission did not reach its service within the retry budget. The form carried an
    /// idempotency key, so sending it again is safe.
    #[error("{service} did not take a submission: {status}")]
    NotSent {
        service: &'static str,
        status: Status,
    },
    /// More requests are being handled than the gateway takes at once (`overload`).
    #[error("too many requests in flight")]
    Overloaded,
    /// The request was not answered within `http.request_timeout_seconds`.
    #[error("not answered within {0:?}")]
    TimedOut(std::time::Duration),
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

/// Whether a service refused the call under its rate limit (too many from the client's network);
/// a form shows the service's message above the answers, keeping them.
pub fn rate_limited(status: &Status) -> bool {
    status.code() == Code::ResourceExhausted && status.get_details_retry_info().is_some()
}

impl GatewayError {
    /// Classifies the failure of a call to `service`.
    pub fn from_status(service: &'static str, status: Status) -> Self {
        match status.code() {
            Code::NotFound => Self::NotFound,
            Code::ResourceExhausted if rate_limited(&status) => {
                Self::TooManyRequests { service, status }
            }
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
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. }
            | Self::NotSent { .. }
            | Self::Overloaded
            | Self::TimedOut(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::TooManyRequests { .. } => ErrorPage {
                title: "Sorry, there have been too many requests",
                paragraphs: &[
                    "There have been too many requests from your network. Wait a while and try again.",
                    "Nothing you entered has been sent.",
                ],
                link: None,
            },
            Self::Overloaded => ErrorPage {
                title: "Sorry, the service is busy",
                paragraphs: &[
                    "A lot of people are using it right now. Try again in a few seconds.",
                    "Nothing you entered has been sent.",
                ],
                link: None,
            },
            Self::NotSent { .. } => ErrorPage {
                title: "Sorry, your form could not be sent",
                paragraphs: &[
                    "The service that takes it is busy or restarting.",
                    "Your answers are not lost: go back to the previous page with your browser's back button and send them again in a few minutes.",
                    "If the first sending did reach us, sending again will not send it twice.",
                ],
                link: None,
            },
            Self::Unavailable { .. }
            | Self::TimedOut(_)
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
            Self::Forbidden { .. } | Self::BadRequest(_) | Self::TooManyRequests { .. } => {
                tracing::info!(error = %self, "refused")
            }
            Self::Unavailable { .. } | Self::NotSent { .. } => {
                tracing::warn!(error = %self, "dependency unavailable")
            }
            Self::Overloaded | Self::TimedOut(_) => tracing::warn!(error = %self, "shed"),
            _ => tracing::error!(error = %self, "request failed"),
        }
        let page = self.page();
        let context = minijinja::context! {
            page_title => page.title,
            page => page,
        };
        let retry_after = match &self {
            Self::TooManyRequests { status, .. } => status
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .map(|delay| delay.as_secs().max(1)),
            Self::Overloaded => Some(OVERLOADED_RETRY_AFTER_SECONDS),
            _ => None,
        };
        let mut response = match templates::render("error.html", context) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(error = %error, "cannot render the error page");
                (status, page_title_only(status)).into_response()
            }
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

fn page_title_only(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Sorry, your form could not be sent",
        StatusCode::BAD_REQUEST => "Sorry, we could not understand your request",
        StatusCode::TOO_MANY_REQUESTS => "Sorry, there have been too many requests",
        _ => "Sorry, there is a problem with the service",
    }
}
