//! The suggestion box in headless Chromium, against the services as separate processes on
//! PostgreSQL and RabbitMQ with a real SMTP sink: a member of staff posts a named suggestion to
//! their trust (after a refused empty one); it is not on the board until a platform admin, signed
//! in through the OpenID Connect provider, approves it and says "we did it" with a reason; the
//! board then shows both, someone supports it, and the suggester is emailed the news. Every page
//! is checked with axe-core, at desktop and phone widths.

use std::time::Duration;

use crate::browser::Browser;
use crate::cluster::{Cluster, PLATFORM_ADMIN};
use crate::vote_in_browser::check_at_both_widths;

const SUGGESTION: &str = "A water fountain by the porters' lodge";
const REASON: &str = "We fitted one in the lodge corridor in May.";

#[tokio::test]
async fn a_suggestion_posted_in_the_browser_is_on_the_board_once_approved_and_its_suggester_is_told()
 {
    let cluster = Cluster::start().await;
    let trust = cluster.demo_campaign().await.trusts[0].clone();
    let board = format!("/suggestions/{}", trust.code);

    let browser = Browser::start().await;
    browser.goto(&cluster.url("/suggestions")).await;
    browser.expect_page("Suggestion boards").await;
    browser.click(&format!("a[href='{board}']")).await;
    browser.expect_page("You said, we did").await;
    check_at_both_widths(&browser).await;
    browser.click("main a.nhsuk-button").await;
    browser.expect_page("Make a suggestion").await;
    check_at_both_widths(&browser).await;

    // Nothing typed: the error summary names the field.
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Make a suggestion").await;
    let refused = browser.page_text().await;
    assert!(refused.contains("There is a problem"), "{refused}");
    assert!(refused.contains("Enter your suggestion"), "{refused}");
    check_at_both_widths(&browser).await;

    browser.fill("text", SUGGESTION).await;
    browser.fill("name", "Sam Patel").await;
    browser.fill("email", "sam.patel@example.org").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Thank you for your suggestion").await;
    check_at_both_widths(&browser).await;

    // Not on the board before a trust admin has read it.
    browser.goto(&cluster.url(&board)).await;
    browser.expect_page("You said, we did").await;
    assert!(!browser.page_text().await.contains(SUGGESTION));

    // A platform admin approves it, then sets its status with a reason. Survey-feedback learns of
    // the admin's grant once nomination binds it (at their first page), so the list may refuse a
    // moment first.
    let admin_list = format!("/admin/trusts/{}/suggestions", trust.code);
    browser.sign_in(&cluster, "/admin", PLATFORM_ADMIN).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        browser.goto(&cluster.url(&admin_list)).await;
        if browser.heading().await.as_deref() == Some("Suggestions") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the admin never reached the suggestions"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.expect_page("Suggestions").await;
    let waiting = browser.page_text().await;
    assert!(waiting.contains(SUGGESTION), "{waiting}");
    assert!(waiting.contains("by Sam Patel"), "{waiting}");
    check_at_both_widths(&browser).await;
    browser
        .click("main form button[name='decision'][value='approve']")
        .await;
    browser.expect_page("Suggestions").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Suggestion approved: it is on the board")
    );
    browser.click("main table a").await;
    browser.expect_page("Set the status of a suggestion").await;
    check_at_both_widths(&browser).await;
    browser.choose("status-3").await;
    browser.fill("public_reason", REASON).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Suggestions").await;

    // The board: what was said, what was done, and a support button that needs no script.
    browser.goto(&cluster.url(&board)).await;
    browser.expect_page("You said, we did").await;
    let shown = browser.page_text_of("main").await;
    assert!(shown.contains(SUGGESTION), "{shown}");
    assert!(shown.contains("We did it"), "{shown}");
    assert!(shown.contains(REASON), "{shown}");
    assert!(
        !shown.contains("Sam Patel"),
        "the board never names anyone: {shown}"
    );
    check_at_both_widths(&browser).await;
    browser.click("main a.nhsuk-button--secondary").await;
    browser.expect_page("Support this suggestion").await;
    check_at_both_widths(&browser).await;
    browser.fill("email", "ana@example.org").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("You said, we did").await;
    let supported = browser.page_text_of("main").await;
    assert!(
        supported.contains("Thank you for your support"),
        "{supported}"
    );
    assert!(supported.contains("1 person supports this"), "{supported}");

    // The suggester hears what became of it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let email = loop {
        let found = cluster
            .smtp
            .received()
            .into_iter()
            .find(|e| e.rcpt_to.iter().any(|r| r == "sam.patel@example.org"));
        if let Some(email) = found {
            break email;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no email to the suggester; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(email.subject(), "Your suggestion: We did it");
    assert!(email.text_body().contains(REASON));
    browser.close().await;
}
