//! The pages behind the links in emails: the nominator confirms, the nominee claims a thank-you
//! passed on by their manager, and consents.

use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{Consent, GetConsentResponse, GetNomineeClaimResponse};

use crate::fake::spawn;
use crate::helpers::TestApp;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn cookie() -> String {
    format!("valued_csrf={TOKEN}")
}

/// A POST to `path` whose CSRF field does not repeat the cookie is refused, pointing back at `form`.
async fn refused_without_csrf(app: &TestApp, path: &str, form: &str) {
    let response = app.post_form(path, "csrf_token=x", Some(&cookie())).await;
    assert_eq!(response.status(), 403);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(r#"<a href="{form}">"#)), "{html}");
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

    refused_without_csrf(&app, "/confirm/c1", "/confirm/c1").await;

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

#[tokio::test]
async fn the_consent_page_says_who_it_is_for_and_offers_this_is_not_me() {
    let (app, fake) = spawn().await;
    fake.state()
        .consents
        .insert("k1".into(), nominee(false, Consent::default()));
    let html = app.get("/consent/k1").await.text().await.unwrap();
    assert!(html.contains("Only answer if you are Sam Patel."));
    assert!(html.contains(r#"<form method="post" action="/consent/k1/not-me" novalidate>"#));
    assert!(html.contains("This is not me"));

    // "Not me" records nothing and turns the link off.
    let body = format!("csrf_token={TOKEN}");
    refused_without_csrf(&app, "/consent/k1/not-me", "/consent/k1").await;
    let response = app
        .post_form("/consent/k1/not-me", &body, Some(&cookie()))
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Thank you for telling us"));
    assert!(html.contains("We have recorded nothing, and this link no longer works."));
    assert_eq!(fake.state().disowned, ["k1"]);
    assert!(fake.state().recorded.is_empty());
    assert_eq!(app.get("/consent/k1").await.status(), 404);
    let again = app
        .post_form("/consent/k1/not-me", &body, Some(&cookie()))
        .await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn a_link_already_answered_cannot_be_disowned() {
    let (app, fake) = spawn().await;
    fake.state()
        .consents
        .insert("k1".into(), nominee(true, Consent::default()));
    let html = app.get("/consent/k1").await.text().await.unwrap();
    assert!(html.contains("Only answer if you are Sam Patel."));
    assert!(
        !html.contains("This is not me"),
        "offered only before an answer"
    );
    let body = format!("csrf_token={TOKEN}");
    let response = app
        .post_form("/consent/k1/not-me", &body, Some(&cookie()))
        .await;
    assert_eq!(response.status(), 409);
    assert!(fake.state().disowned.is_empty());
}

fn claimable() -> GetNomineeClaimResponse {
    GetNomineeClaimResponse {
        nominee_name: "Sam Patel".into(),
        campaign_name: "Health Heroes 2026".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
    }
}

#[tokio::test]
async fn the_claim_link_asks_the_nominee_for_their_own_address_and_sends_a_link_there() {
    let (app, fake) = spawn().await;
    fake.state().claims.insert("cl1".into(), claimable());
    let response = app.get("/claim/cl1").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("set-cookie"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Get your own link"));
    assert!(html.contains("Sam Patel, colleagues nominated you for Health Heroes 2026"));
    assert!(html.contains(r#"<form method="post" action="/claim/cl1" novalidate>"#));
    assert!(html.contains(r#"id="email" name="email" type="email""#));
    assert!(fake.state().claimed.is_empty(), "a GET sends nothing");

    let body = format!("csrf_token={TOKEN}&website=&email=Sam%40Example.ORG");
    let response = app.post_form("/claim/cl1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Check your email"));
    assert!(html.contains("We have sent a link to <strong>Sam@example.org</strong>"));
    let claimed = fake.state().claimed.clone();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].claim_token, "cl1");
    assert_eq!(claimed[0].email, "Sam@example.org");
}

#[tokio::test]
async fn a_bad_address_or_the_trust_contacts_is_asked_again_and_sends_nothing() {
    let (app, fake) = spawn().await;
    fake.state().claims.insert("cl1".into(), claimable());

    for typed in [
        "",
        "not-an-address",
        &format!("{}%40example.org", "a".repeat(300)),
    ] {
        let body = format!("csrf_token={TOKEN}&email={typed}");
        let response = app.post_form("/claim/cl1", &body, Some(&cookie())).await;
        assert_eq!(response.status(), 400, "{typed}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r##"<a href="#email">Enter"##),
            "{typed}: {html}"
        );
    }
    assert!(fake.state().claimed.is_empty());

    // The service refuses the address that passed the link on; the page says why and keeps it.
    fake.state().refuse_claim = vec![FieldError::new(
        "email",
        "Enter your own email address, not the address of the person who passed this link on to you",
    )];
    let body = format!("csrf_token={TOKEN}&email=awards%40gstt.example.org");
    let response = app.post_form("/claim/cl1", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains(
        r##"<a href="#email">Enter your own email address, not the address of the person who passed this link on to you</a>"##
    ));
    assert!(html.contains(r#"value="awards@gstt.example.org""#));
    assert!(fake.state().claimed.is_empty());

    refused_without_csrf(&app, "/claim/cl1", "/claim/cl1").await;
}

#[tokio::test]
async fn an_unknown_claim_link_says_so() {
    let (app, _fake) = spawn().await;
    let response = app.get("/claim/nope").await;
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This link does not work")
    );
    let body = format!("csrf_token={TOKEN}&email=sam%40example.org");
    let response = app.post_form("/claim/nope", &body, Some(&cookie())).await;
    assert_eq!(response.status(), 404);
}
