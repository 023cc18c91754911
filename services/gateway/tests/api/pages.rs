//! Pages whose outcome does not depend on a service answering.

use crate::helpers::spawn_app;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn an_unknown_page_is_an_nhs_style_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Page not found – Valued – NHS</title>"));
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(r#"class="nhsuk-skip-link""#));
    assert!(html.contains(r#"class="nhsuk-header""#));
    assert!(html.contains(r#"<main class="nhsuk-main-wrapper" id="maincontent">"#));
    assert!(html.contains(r#"class="nhsuk-footer""#));
    assert!(html.contains(r#"<link rel="stylesheet" href="/assets/nhsuk-frontend.min.css?v="#));
    assert!(html.contains(r#"<script type="module" src="/assets/valued.js?v="#));
}

#[tokio::test]
async fn pages_say_sorry_with_a_503_when_the_nomination_service_is_down() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/campaigns/health-heroes",
        "/campaigns/health-heroes/nominate",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 503, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Sorry, there is a problem with the service"),
            "{path}"
        );
        assert!(!html.contains("tcp connect"), "{path}: no detail leaks");
    }
}

#[tokio::test]
async fn the_outbox_says_sorry_when_the_notification_service_is_down() {
    let app = spawn_app().await;
    let response = app.get("/outbox?recipient=a%40example.com").await;
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn a_post_without_the_cookie_token_is_forbidden() {
    let app = spawn_app().await;
    let path = "/campaigns/health-heroes/nominate";
    let body = format!("csrf_token={TOKEN}&nominee_name=Ann");

    let no_cookie = app.post_form(path, &body, None).await;
    assert_eq!(no_cookie.status(), 403);
    let html = no_cookie.text().await.unwrap();
    assert!(html.contains("Sorry, your form could not be sent"));
    assert!(html.contains(r#"<a href="/campaigns/health-heroes/nominate">"#));

    let other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    let wrong_cookie = app
        .post_form(path, &body, Some(&format!("valued_csrf={other}")))
        .await;
    assert_eq!(wrong_cookie.status(), 403);

    let no_field = app
        .post_form(
            path,
            "nominee_name=Ann",
            Some(&format!("valued_csrf={TOKEN}")),
        )
        .await;
    assert_eq!(no_field.status(), 403);
}

#[tokio::test]
async fn a_filled_honeypot_is_thanked_without_calling_any_service() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/campaigns/health-heroes/nominate",
            &format!("csrf_token={TOKEN}&nominee_name=Bot&website=http%3A%2F%2Fspam.example"),
            Some(&format!("valued_csrf={TOKEN}")),
        )
        .await;
    // The nomination service is down: reaching it would have been a 503.
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/campaigns/health-heroes/nominated/"),
        "{location}"
    );
}

#[tokio::test]
async fn a_matching_token_reaches_the_service() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/campaigns/health-heroes/nominate",
            &format!("csrf_token={TOKEN}&nominee_name=Ann"),
            Some(&format!("other=1; valued_csrf={TOKEN}")),
        )
        .await;
    // Past the CSRF check, the service is down.
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn every_page_links_to_the_privacy_notice_and_a_trust_adds_its_own_section() {
    let mut settings = valued_gateway::Settings::default();
    settings.privacy.trusts.insert(
        "RJ1".into(),
        "Our data protection officer is dpo@gstt.example.org.".into(),
    );
    let app = crate::helpers::spawn_app_with(settings).await;

    let privacy = app.get("/privacy").await;
    assert_eq!(privacy.status(), 200);
    let body = privacy.text().await.unwrap();
    assert!(body.contains("How we use your information"), "{body}");
    assert!(body.contains("deleted after 30 days"), "{body}");
    assert!(!body.contains("dpo@gstt"), "no trust asked for: {body}");
    assert!(body.contains("href=\"/privacy\""), "the footer links to it");

    let trust = app.get("/privacy?trust=rj1").await.text().await.unwrap();
    assert!(trust.contains("Your trust (RJ1)"), "{trust}");
    assert!(trust.contains("dpo@gstt.example.org"), "{trust}");
    let other = app.get("/privacy?trust=RX1").await.text().await.unwrap();
    assert!(!other.contains("Your trust"), "{other}");
}
