//! The suggestion box's email: a named suggester is told once what became of their suggestion;
//! an event naming nobody sends nothing.

use std::time::Duration;

use valued_platform::Envelope;
use valued_proto::events::v1 as ev;

use crate::helpers::{PUBLIC_URL, has_link, spawn_app};

fn changed(email: &str, name: &str) -> Envelope {
    Envelope::new(
        "survey-feedback",
        Some("RXX"),
        &ev::SuggestionStatusChanged {
            suggester_email: email.into(),
            suggester_name: name.into(),
            trust_code: "RXX".into(),
            text: "Publish the rota a month ahead".into(),
            status: "done".into(),
            status_label: "We did it".into(),
            public_reason: "Rotas now go out six weeks ahead.".into(),
            // 2026-07-01 09:30 UTC: 10:30 in UK summer time.
            changed_at: Some(prost_types::Timestamp {
                seconds: 1_782_898_200,
                nanos: 0,
            }),
        },
    )
}

#[tokio::test]
async fn a_named_suggester_is_told_once_and_an_anonymous_one_never() {
    let app = spawn_app().await;
    let named = changed("Sam@Example.org", "Sam Patel");
    app.publish(&named).await;
    app.publish(&named).await;
    app.publish(&changed("", "")).await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    app.settled().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let received = app.smtp.received();
    assert_eq!(
        received.len(),
        1,
        "one email, for the named suggester alone"
    );
    let email = &received[0];
    assert_eq!(email.rcpt_to, ["sam@example.org"]);
    assert_eq!(email.subject(), "Your suggestion: We did it");
    let text = email.text_body();
    assert!(text.contains("Hello Sam Patel"), "{text}");
    assert!(text.contains("Publish the rota a month ahead"), "{text}");
    assert!(text.contains("Rotas now go out six weeks ahead."), "{text}");
    assert!(text.contains("10:30"), "UK time: {text}");
    assert!(has_link(email, &format!("{PUBLIC_URL}/suggestions/RXX")));
    // News the suggester may stop: it carries the one-click unsubscribe.
    assert!(email.header("List-Unsubscribe").is_some());
    assert_eq!(app.deliveries().await.len(), 1);
}
