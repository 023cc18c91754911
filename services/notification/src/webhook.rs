//! Bounce and complaint intake: a small HTTP listener (`webhook.listen`, on only when
//! `webhook.secret` is set) where the email provider reports what happened to our mail, in one
//! provider-neutral shape (a provider's own format is mapped to it by a small adapter at its edge):
//!
//! ```text
//! POST /webhooks/email-events
//! Content-Type: application/json
//! X-Valued-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with webhook.secret>
//!
//! {"type": "bounce", "email": "sam@example.org", "permanent": true,
//!  "occurred_at": "2026-11-22T09:00:00Z", "detail": "550 5.1.1 user unknown"}
//! ```
//!
//! `type` is `bounce` or `complaint`; `permanent` (bounces only, default false) and `detail` are
//! optional. A permanent bounce or any complaint puts the address on the suppression list; a
//! temporary bounce is only logged (the sender's retries deal with it). Answers: 200 with
//! `{"suppressed": bool}`; 401 when the signature is missing or wrong (checked before the body is
//! read as JSON); 400 with `{"error": "…"}` naming what is wrong with the body.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use valued_platform::domain::EmailAddress;
use valued_platform::shutdown::Shutdown;

use crate::policy::suppression;
use crate::settings::WebhookSettings;

pub const PATH: &str = "/webhooks/email-events";
pub const SIGNATURE_HEADER: &str = "x-valued-signature";

/// One report from the provider.
#[derive(Debug, Deserialize)]
pub struct EmailEvent {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub email: String,
    #[serde(default)]
    pub permanent: bool,
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Bounce,
    Complaint,
}

struct Webhook {
    db: DatabaseConnection,
    secret: SecretString,
}

/// The bound listener, before it serves.
pub struct WebhookServer {
    listener: TcpListener,
    router: Router,
}

impl WebhookServer {
    /// Binds `settings.listen`; `None` when no secret is configured.
    pub async fn bind(
        settings: &WebhookSettings,
        db: DatabaseConnection,
    ) -> anyhow::Result<Option<Self>> {
        if settings.secret.expose_secret().is_empty() {
            return Ok(None);
        }
        let listener = TcpListener::bind(&settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("webhook.listen {}: {e}", settings.listen))?;
        let state = Arc::new(Webhook {
            db,
            secret: settings.secret.clone(),
        });
        let router = Router::new()
            .route(PATH, post(receive))
            .layer(DefaultBodyLimit::max(64 * 1024))
            .with_state(state);
        Ok(Some(Self { listener, router }))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move {
            let served = axum::serve(self.listener, self.router)
                .with_graceful_shutdown(async move { shutdown.wait().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the webhook listener stopped");
            }
        })
    }
}

/// `sha256=<hex>` of `body` under `secret`: what a sender puts in [`SIGNATURE_HEADER`].
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

/// Whether `header` is the right signature of `body`, compared in constant time.
fn verify(secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn receive(State(webhook): State<Arc<Webhook>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !verify(webhook.secret.expose_secret(), signature, &body) {
        tracing::warn!("email event webhook: missing or wrong signature");
        return error(
            StatusCode::UNAUTHORIZED,
            format!("missing or wrong {SIGNATURE_HEADER} (sha256=<hex HMAC-SHA256 of the body>)"),
        );
    }
    let event: EmailEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not an email event: {e}"),
            );
        }
    };
    let email = match EmailAddress::parse("email", &event.email) {
        Ok(email) => email.normalised(),
        Err(_) => return error(StatusCode::BAD_REQUEST, "`email` is not an email address"),
    };
    let reason = match (event.kind, event.permanent) {
        (EventKind::Complaint, _) => suppression::reason::COMPLAINT,
        (EventKind::Bounce, true) => suppression::reason::BOUNCE,
        (EventKind::Bounce, false) => {
            tracing::info!(occurred_at = %event.occurred_at, "temporary bounce reported; not suppressed");
            return axum::Json(json!({ "suppressed": false })).into_response();
        }
    };
    let detail = format!(
        "{} at {}",
        event.detail.trim(),
        event.occurred_at.to_rfc3339()
    );
    match suppression::suppress(&webhook.db, &email, reason, detail.trim()).await {
        Ok(()) => {
            tracing::info!(reason, occurred_at = %event.occurred_at, "address suppressed by a provider report");
            axum::Json(json!({ "suppressed": true })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a suppression");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not record it now; send it again later",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_and_secret() {
        let body = br#"{"type":"complaint"}"#;
        let signature = sign("s3cret", body);
        assert!(verify("s3cret", Some(&signature), body));
        assert!(!verify("other", Some(&signature), body));
        assert!(!verify("s3cret", Some(&signature), b"{}"));
        assert!(!verify("s3cret", None, body));
        assert!(!verify("s3cret", Some("sha256=zz"), body));
        assert!(!verify(
            "s3cret",
            Some(signature.trim_start_matches("sha256=")),
            body
        ));
    }
}
