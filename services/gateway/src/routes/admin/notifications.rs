//! What the notification service sends, for platform admins: every email template previewed from
//! sample data, and everything that went to MPs. Each call carries the admin's ID token and the
//! notification service allows platform admins only; the pages first ask the nomination service
//! who the caller is, to say "not for you" before any notification call.

use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use serde::Serialize;
use valued_proto::notification::v1::{
    ListDeliveriesRequest, ListHeldLettersRequest, PreviewTemplatesRequest, ReviewHeldLetterRequest,
};

use super::signed::{AdminError, AdminResult, Signed, check_csrf};
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;

use crate::clients::{NOTIFICATION, Traced};
use crate::error::GatewayError;
use crate::routes::page::{self, see_other};

/// The email's own styles may apply; nothing else may load or run.
const PREVIEW_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

impl Signed {
    /// The notification service, for platform admins only (as the nomination service knows them).
    async fn notification_for_platform_admin(
        &self,
    ) -> AdminResult<NotificationServiceClient<Traced>> {
        self.platform_admin().await?;
        Ok(self.clients.notification.clone())
    }

    /// Allows platform admins only (as the nomination service knows them).
    pub(super) async fn platform_admin(&self) -> AdminResult<()> {
        if self
            .roles()
            .await?
            .iter()
            .any(|role| role == "platform_admin")
        {
            Ok(())
        } else {
            Err(AdminError::Denied)
        }
    }
}

/// How long a platform admin's refusal by the notification service is tried again for: the time its
/// copy of the grants may take to learn of an admin's first sign-in.
const GRANT_COPY_WAIT: Duration = Duration::from_secs(3);

impl Signed {
    /// What a failed call to the notification service shows (which checks the caller itself).
    pub(super) fn notification_failed(&self, status: tonic::Status) -> AdminError {
        self.failed_at(NOTIFICATION, status)
    }

    /// What a failed call to `service`, which checks the caller itself, shows.
    pub(super) fn failed_at(&self, service: &'static str, status: tonic::Status) -> AdminError {
        match status.code() {
            tonic::Code::Unauthenticated
            | tonic::Code::PermissionDenied
            | tonic::Code::FailedPrecondition => self.fail(status),
            _ => AdminError::Gateway(GatewayError::from_status(service, status)),
        }
    }

    /// Calls the notification service with `message` as the signed-in platform admin (see
    /// [`through_grant_copy`]).
    pub(super) async fn notification<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            NotificationServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> AdminResult<R> {
        let client = self.notification_for_platform_admin().await?;
        through_grant_copy(|| call(client.clone(), self.signed(message.clone())))
            .await
            .map_err(|status| self.notification_failed(status))
    }
}

/// Calls a service that checks the caller against its own copy of the grants, which learns of a
/// grant a moment after the admin's first sign-in binds it: a refusal of someone the nomination
/// service calls a platform admin is tried again for up to [`GRANT_COPY_WAIT`].
pub(super) async fn through_grant_copy<R, F>(call: impl Fn() -> F) -> Result<R, tonic::Status>
where
    F: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
{
    let deadline = tokio::time::Instant::now() + GRANT_COPY_WAIT;
    loop {
        match call().await {
            Ok(response) => return Ok(response.into_inner()),
            Err(status)
                if status.code() == tonic::Code::PermissionDenied
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => return Err(status),
        }
    }
}

#[derive(Serialize)]
struct PreviewView {
    template: String,
    subject: String,
    text_body: String,
    transactional: bool,
}

/// `GET /admin/templates`
pub async fn templates(signed: Signed) -> AdminResult<Response> {
    let previews = signed
        .notification(PreviewTemplatesRequest {}, async |mut c, r| {
            c.preview_templates(r).await
        })
        .await?
        .templates;
    let previews: Vec<PreviewView> = previews
        .into_iter()
        .map(|p| PreviewView {
            template: p.template,
            subject: p.subject,
            text_body: p.text_body,
            transactional: p.transactional,
        })
        .collect();
    Ok(page::render(
        "admin/templates.html",
        context! { page_title => "Email templates", previews => previews },
    )?)
}

/// `GET /admin/templates/{name}`: the HTML part on its own, for the preview frame.
pub async fn template_html(signed: Signed, Path(name): Path<String>) -> AdminResult<Response> {
    let html = signed
        .notification(PreviewTemplatesRequest {}, async |mut c, r| {
            c.preview_templates(r).await
        })
        .await?
        .templates
        .into_iter()
        .find(|p| p.template == name)
        .map(|p| p.html_body)
        .ok_or(AdminError::Gateway(GatewayError::NotFound))?;
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_POLICY),
    );
    Ok(response)
}

#[derive(Serialize)]
struct MpEmailView {
    created_at: String,
    recipient: String,
    template: String,
    subject: String,
    status: String,
}

/// `GET /admin/mp-emails`
pub async fn mp_emails(signed: Signed) -> AdminResult<Response> {
    let request = ListDeliveriesRequest {
        limit: 500,
        recipient: String::new(),
    };
    let sent = signed
        .notification(request, async |mut c, r| c.list_mp_emails(r).await)
        .await?
        .deliveries;
    let rows: Vec<MpEmailView> = sent
        .into_iter()
        .map(|d| MpEmailView {
            created_at: valued_platform::uk_time::when_of(d.created_at.as_ref())
                .unwrap_or_default(),
            recipient: d.recipient,
            template: d.template,
            subject: d.subject,
            status: d.status,
        })
        .collect();
    Ok(page::render(
        "admin/mp_emails.html",
        context! { page_title => "Emails to MPs", rows => rows },
    )?)
}

const HELD_PATH: &str = "/admin/held-letters";

#[derive(Serialize)]
struct HeldView {
    id: String,
    mp: String,
    constituency: String,
    supporter: String,
    email: String,
    postcode: String,
    body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HeldQuery {
    done: String,
}

/// `GET /admin/held-letters`: letters to MPs held back for unusual volume, to send or discard.
pub async fn held_letters(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<HeldQuery>,
) -> AdminResult<Response> {
    let letters = signed
        .notification(ListHeldLettersRequest {}, async |mut c, r| {
            c.list_held_letters(r).await
        })
        .await?
        .letters;
    let letters: Vec<HeldView> = letters
        .into_iter()
        .map(|l| {
            let mp = l.mp.unwrap_or_default();
            HeldView {
                id: l.id,
                mp: mp.name,
                constituency: mp.constituency_name,
                supporter: l.supporter_name,
                email: l.supporter_email,
                postcode: l.supporter_postcode,
                body: l.body,
            }
        })
        .collect();
    let done = match query.done.as_str() {
        "sent" => Some("The letter has been sent to the MP."),
        "discarded" => Some("The letter has been discarded."),
        _ => None,
    };
    Ok(crate::routes::forms::form_page(
        &headers,
        axum::http::StatusCode::OK,
        |csrf_token| {
            crate::templates::render(
                "admin/held_letters.html",
                context! {
                    page_title => "Letters to MPs held for review",
                    letters => letters,
                    done => done,
                    csrf_token => csrf_token,
                },
            )
        },
    )?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    csrf_token: String,
    /// `send` or `discard`.
    decision: String,
}

/// `POST /admin/held-letters/{id}`
pub async fn review_held_letter(
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, HELD_PATH)?;
    let request = ReviewHeldLetterRequest {
        letter_id: id,
        send: form.decision == "send",
    };
    let status = signed
        .notification(request, async |mut c, r| c.review_held_letter(r).await)
        .await?
        .status;
    Ok(see_other(&format!("{HELD_PATH}?done={status}"))?)
}
