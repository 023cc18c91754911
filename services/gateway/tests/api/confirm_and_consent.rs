//! The pages behind the links in emails: the nominator confirms, the nominee consents.

use valued_proto::nomination::v1::{Consent, GetConsentResponse};

use crate::fake::spawn;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn cookie() -> String {
    format!("valued_csrf={TOKEN}")
}

#[tokio::test]
async fn opening_the_confirmation_link_only_shows_a_button() {
    let (app, fake) = spawn().await;
    fake.state()
        .confirm_tokens
        .insert("c1".into(), "Sam Patel".into());
    let response = app.get("/confirm/c1").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("set-cookie"));
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<form method="post" action="/confirm/c1" novalidate>"#));
    assert!(html.contains("Confirm my nomination"));
    assert!(html.contains(r#"name="website""#));
    assert!(fake.state().confirmed.is_empty(), "a GET confirms nothing");
}

#[tokio::test]
async fn pressing_the_button_confirms_once() {
    let (app, fake) = spawn().await;
    fake.state()
        .confirm_tokens
        .insert("c1".into(), "Sam <Patel>".into());
    let body = format!("csrf_token={TOKEN}&website=");

    let response = app
        .post_form("/confirm/c1", "csrf_token=x", Some(&cookie()))
        .await;
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(r#"<a href="/confirm/c1">"#)
    );

    let response = app.post_form("/confirm/c1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Thank you, your nomination of <strong>Sam &lt;Patel&gt;</strong> counts")
    );
    assert!(html.contains(r#"<a href="/campaigns/health-heroes">Nominate someone else</a>"#));

    let again = app.post_form("/confirm/c1", &body, Some(&cookie())).await;
    let html = again.text().await.unwrap();
    assert!(html.contains("You have already confirmed this nomination"));
    assert_eq!(fake.state().confirmed.len(), 2);

    let unknown = app.post_form("/confirm/nope", &body, Some(&cookie())).await;
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("This confirmation link does not work")
    );
}

#[tokio::test]
async fn a_bot_that_fills_the_honeypot_confirms_nothing() {
    let (app, fake) = spawn().await;
    fake.state()
        .confirm_tokens
        .insert("c1".into(), "Sam".into());
    let body = format!("csrf_token={TOKEN}&website=x");
    let response = app.post_form("/confirm/c1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 200);
    assert!(fake.state().confirmed.is_empty());
}

fn nominee(answered: bool, consent: Consent) -> GetConsentResponse {
    GetConsentResponse {
        nominee_name: "Sam Patel".into(),
        campaign_name: "Health Heroes 2026".into(),
        nomination_count: 4,
        consent: Some(consent),
        answered,
    }
}

#[tokio::test]
async fn the_nominee_answers_three_questions_that_start_at_no() {
    let (app, fake) = spawn().await;
    fake.state()
        .consents
        .insert("k1".into(), nominee(false, Consent::default()));
    let response = app.get("/consent/k1").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Sam Patel, you have been nominated for Health Heroes 2026."));
    assert!(html.contains("4 people nominated you."));
    assert_eq!(html.matches(r#"value="no" checked"#).count(), 3);
    assert_eq!(html.matches(r#"value="yes" checked"#).count(), 0);

    let body = format!(
        "csrf_token={TOKEN}&website=&listed_publicly=yes&story_published=no&shared_with_mp=yes"
    );
    let response = app.post_form("/consent/k1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Thank you, we have saved your answers"));
    let recorded = fake.state().recorded[0].clone();
    assert_eq!(
        recorded.consent,
        Some(Consent {
            listed_publicly: true,
            story_published: false,
            shared_with_mp: true,
        })
    );
}

#[tokio::test]
async fn earlier_answers_are_shown_and_a_missing_answer_is_asked_again() {
    let (app, fake) = spawn().await;
    let before = Consent {
        listed_publicly: true,
        story_published: false,
        shared_with_mp: false,
    };
    fake.state()
        .consents
        .insert("k1".into(), nominee(true, before));
    let html = app.get("/consent/k1").await.text().await.unwrap();
    assert!(html.contains("These are the answers you gave before."));
    assert_eq!(html.matches(r#"value="yes" checked"#).count(), 1);

    let body = format!("csrf_token={TOKEN}&listed_publicly=yes&story_published=no");
    let response = app.post_form("/consent/k1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains(r##"<a href="#shared_with_mp">Select yes or no</a>"##));
    assert!(fake.state().recorded.is_empty());
}

#[tokio::test]
async fn an_unknown_consent_link_says_so() {
    let (app, _fake) = spawn().await;
    let response = app.get("/consent/nope").await;
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This link does not work")
    );
    let body =
        format!("csrf_token={TOKEN}&listed_publicly=no&story_published=no&shared_with_mp=no");
    let response = app.post_form("/consent/nope", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 404);
}
