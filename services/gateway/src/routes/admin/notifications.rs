//! What the notification service sends, for platform admins: every email template previewed from
//! sample data, and everything that went to MPs. The notification service has no sign-in of its own,
//! so these pages first ask the nomination service who the caller is and allow platform admins only.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::Serialize;
use valued_proto::nomination::v1::WhoAmIRequest;
use valued_proto::notification::v1::{ListDeliveriesRequest, PreviewTemplatesRequest};

use super::{AdminError, AdminResult, Signed};
use crate::clients::NOTIFICATION;
use crate::error::GatewayError;
use crate::routes::page;

/// The email's own styles may apply; nothing else may load or run.
const PREVIEW_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

impl Signed {
    /// Allows platform admins only (as the nomination service knows them).
    pub(super) async fn platform_admin(&self) -> AdminResult<()> {
        let me = self
            .nomination()
            .who_am_i(self.signed(WhoAmIRequest {}))
            .await
            .map_err(|s| self.fail(s))?
            .into_inner();
        if me.grants.iter().any(|g| g.role == "platform_admin") {
            Ok(())
        } else {
            Err(AdminError::Denied)
        }
    }
}

pub(super) fn notification_failed(status: tonic::Status) -> AdminError {
    AdminError::Gateway(GatewayError::from_status(NOTIFICATION, status))
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
    signed.platform_admin().await?;
    let previews = signed
        .clients
        .notification
        .clone()
        .preview_templates(PreviewTemplatesRequest {})
        .await
        .map_err(notification_failed)?
        .into_inner()
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
    Ok(page(
        "admin/templates.html",
        context! { page_title => "Email templates", previews => previews },
    )?)
}

/// `GET /admin/templates/{name}`: the HTML part on its own, for the preview frame.
pub async fn template_html(signed: Signed, Path(name): Path<String>) -> AdminResult<Response> {
    signed.platform_admin().await?;
    let html = signed
        .clients
        .notification
        .clone()
        .preview_templates(PreviewTemplatesRequest {})
        .await
        .map_err(notification_failed)?
        .into_inner()
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
    signed.platform_admin().await?;
    let sent = signed
        .clients
        .notification
        .clone()
        .list_mp_emails(ListDeliveriesRequest {
            limit: 500,
            recipient: String::new(),
        })
        .await
        .map_err(notification_failed)?
        .into_inner()
        .deliveries;
    let rows: Vec<MpEmailView> = sent
        .into_iter()
        .map(|d| MpEmailView {
            created_at: d
                .created_at
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                .map(|t| t.format("%-d %B %Y %H:%M").to_string())
                .unwrap_or_default(),
            recipient: d.recipient,
            template: d.template,
            subject: d.subject,
            status: d.status,
        })
        .collect();
    Ok(page(
        "admin/mp_emails.html",
        context! { page_title => "Emails to MPs", rows => rows },
    )?)
}
