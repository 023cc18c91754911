//! The bounce and complaint webhook: only signed reports count; permanent bounces and complaints
//! suppress the address; a bad body is told what is wrong with it.

use std::time::Duration;

use serde_json::{Value, json};
use valued_notification::webhook::{PATH, SIGNATURE_HEADER, sign};

use crate::helpers::{TestApp, WEBHOOK_SECRET, confirmation_requested, envelope, spawn_app};

impl TestApp {
    async fn report(&self, body: &str, signature: Option<String>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{PATH}", self.webhook_url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn report_signed(&self, event: &Value) -> (u16, Value) {
        let body = event.to_string();
        let signature = sign(WEBHOOK_SECRET, body.as_bytes());
        self.report(&body, Some(signature)).await
    }

    /// Publishes a confirmation request to `to` and waits for its delivery to settle.
    async fn email(&self, to: &str) -> String {
        self.publish(&envelope(&confirmation_requested(to))).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let deliveries = self.settled().await;
        deliveries
            .iter()
            .find(|d| d.recipient == to)
            .map(|d| d.status.clone())
            .unwrap_or_default()
    }
}

fn bounce(email: &str, permanent: bool) -> Value {
    json!({
        "type": "bounce",
        "email": email,
        "permanent": permanent,
        "occurred_at": "2026-11-22T09:00:00Z",
        "detail": "550 5.1.1 user unknown"
    })
}

#[tokio::test]
async fn a_permanent_bounce_suppresses_the_address_and_a_temporary_one_does_not() {
    let app = spawn_app().await;
    let (status, body) = app.report_signed(&bounce("Soft@Example.org", false)).await;
    assert_eq!((status, body), (200, json!({ "suppressed": false })));
    let (status, body) = app.report_signed(&bounce("Gone@Example.org", true)).await;
    assert_eq!((status, body), (200, json!({ "suppressed": true })));
    assert_eq!(app.email("gone@example.org").await, "suppressed");
    assert_eq!(app.email("soft@example.org").await, "sent");
    assert_eq!(app.smtp.received().len(), 1);
}

#[tokio::test]
async fn a_complaint_suppresses_the_address() {
    let app = spawn_app().await;
    let complaint = json!({
        "type": "complaint",
        "email": "angry@example.org",
        "occurred_at": "2026-11-22T09:00:00+00:00"
    });
    let (status, _) = app.report_signed(&complaint).await;
    assert_eq!(status, 200);
    // Reported twice (providers retry): still one suppression, still 200.
    assert_eq!(app.report_signed(&complaint).await.0, 200);
    assert_eq!(app.email("angry@example.org").await, "suppressed");
    assert!(app.smtp.received().is_empty());
}

#[tokio::test]
async fn a_missing_or_wrong_signature_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let body = bounce("gone@example.org", true).to_string();
    let (status, _) = app.report(&body, None).await;
    assert_eq!(status, 401);
    let (status, _) = app
        .report(&body, Some(sign("not-the-secret", body.as_bytes())))
        .await;
    assert_eq!(status, 401);
    let other = bounce("someone-else@example.org", true).to_string();
    let (status, _) = app
        .report(&body, Some(sign(WEBHOOK_SECRET, other.as_bytes())))
        .await;
    assert_eq!(status, 401, "a signature of another body");
    let (status, _) = app.report(&body, Some("sha256=zz".into())).await;
    assert_eq!(status, 401);
    assert_eq!(app.email("gone@example.org").await, "sent");
}

#[tokio::test]
async fn a_bad_body_is_a_400_that_says_what_is_wrong() {
    let app = spawn_app().await;
    let cases = [
        ("not json", "the body is not an email event"),
        (r#"{"type":"bounce"}"#, "missing field"),
        (
            r#"{"type":"delivered","email":"a@b.org","occurred_at":"2026-11-22T09:00:00Z"}"#,
            "unknown variant `delivered`",
        ),
        (
            r#"{"type":"bounce","email":"a@b.org","occurred_at":"yesterday"}"#,
            "the body is not an email event",
        ),
        (
            r#"{"type":"bounce","email":"not an address","permanent":true,"occurred_at":"2026-11-22T09:00:00Z"}"#,
            "`email` is not an email address",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = app
            .report(body, Some(sign(WEBHOOK_SECRET, body.as_bytes())))
            .await;
        assert_eq!(status, 400, "{body}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{body}: {error}");
    }
}
