//! The moderation queue in headless Chromium: a trust admin, given the role with `valued grant`,
//! signs in through the real OpenID Connect provider's own form, approves a nomination, sees it leave
//! the queue and appear in the trust's audit log. Every admin page passes the axe-core check.

use crate::browser::Browser;
use crate::cluster::{Cluster, DEMO_CAMPAIGN, PLATFORM_ADMIN, nomination_form, nomination_id};

const TRUST_ADMIN: &str = "awards@trust.example.org";

#[tokio::test]
async fn a_trust_admin_signs_in_and_approves_from_the_moderation_queue() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let trust = campaign.trusts[0].code.clone();

    // A confirmed nomination waits in the trust's queue.
    let csrf = cluster.csrf_token().await;
    let response = cluster
        .post_nomination(
            &csrf,
            &nomination_form(&campaign, "Sam Patel", "alex.jones@example.org"),
        )
        .await;
    let id = nomination_id(&response);
    let confirm = cluster
        .smtp
        .wait_for(1, std::time::Duration::from_secs(30))
        .await
        .into_iter()
        .find(|e| e.subject().starts_with("Confirm your nomination"))
        .expect("a confirmation request");
    cluster.confirm_from_email(&confirm).await;

    // The deployment's operator gives the trust's awards lead their role.
    let granted = std::process::Command::new(crate::cluster::binary())
        .args(["grant", TRUST_ADMIN, "trust_admin", &trust])
        .env(
            "VALUED__NOMINATION__DATABASE__URL",
            &cluster.databases["nomination"],
        )
        .env("VALUED__DATA_DIR", &cluster.logs)
        .output()
        .unwrap();
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );

    // Signing in: the admin page sends the browser to the provider, whose form takes the subject.
    let browser = Browser::start().await;
    browser
        .sign_in(
            &cluster,
            &format!("/admin/campaigns/{DEMO_CAMPAIGN}/moderation"),
            TRUST_ADMIN,
        )
        .await;
    browser.expect_page("Moderation queue").await;
    let queue = browser.page_text().await;
    assert!(queue.contains("Sam Patel"), "{queue}");
    assert!(queue.contains("Always the first to help"), "{queue}");

    browser
        .click(&format!(
            "form[action='/admin/campaigns/{DEMO_CAMPAIGN}/moderation/{id}'] input[value='approve'] ~ button"
        ))
        .await;
    browser.expect_page("Moderation queue").await;
    let after = browser.page_text().await;
    assert!(!after.contains("Always the first to help"), "{after}");

    browser.goto(&cluster.url("/admin")).await;
    browser.expect_page("Admin").await;
    browser
        .goto(&cluster.url(&format!("/admin/trusts/{trust}/audit")))
        .await;
    browser
        .expect_page(&format!("Audit log\nTrust {trust}"))
        .await;
    let audit = browser.page_text().await;
    assert!(audit.contains(TRUST_ADMIN), "{audit}");
    assert!(audit.to_lowercase().contains("approve"), "{audit}");

    // Another trust's queue is refused by the nomination service, shown as a 403 page.
    let other = campaign.trusts[1].code.clone();
    browser
        .goto(&cluster.url(&format!(
            "/admin/campaigns/{DEMO_CAMPAIGN}/moderation?trust={other}"
        )))
        .await;
    let refused = browser.page_text().await;
    assert!(refused.contains("permission"), "{refused}");
    // The email pages are for platform admins only.
    browser.goto(&cluster.url("/admin/templates")).await;
    let refused = browser.page_text().await;
    assert!(refused.contains("permission"), "{refused}");
    browser.close().await;

    // A platform admin previews every email and sees what went to MPs.
    let browser = Browser::start().await;
    browser
        .sign_in(&cluster, "/admin/templates", PLATFORM_ADMIN)
        .await;
    browser.expect_page("Email templates").await;
    let templates = browser.page_text().await;
    assert!(templates.contains("Confirm your nomination"), "{templates}");
    browser
        .goto(&cluster.url("/admin/templates/finalist_notice"))
        .await;
    let html = browser.page_text_of("body").await;
    assert!(html.contains("finalist"), "{html}");
    browser.goto(&cluster.url("/admin/mp-emails")).await;
    browser.expect_page("Emails to MPs").await;
    // The people page lists the grants and passes the same checks.
    browser.goto(&cluster.url("/admin/people")).await;
    browser.expect_page("People and roles").await;
    let people = browser.page_text().await;
    assert!(people.contains(TRUST_ADMIN), "{people}");
    // So do the pages of people's data: a bad address, the confirmation, the request's progress.
    browser.goto(&cluster.url("/admin/privacy")).await;
    browser.expect_page("People's data").await;
    browser.fill("export_email", "not an address").await;
    browser
        .click("form[action='/admin/privacy/export'] button")
        .await;
    browser.expect_page("People's data").await;
    assert!(browser.page_text().await.contains("There is a problem"));
    browser.fill("erase_email", "nobody.here@example.org").await;
    browser
        .click("form[action='/admin/privacy/erase'] button")
        .await;
    browser
        .expect_page("Erase everything about nobody.here@example.org?")
        .await;
    browser
        .click("form[action='/admin/privacy/erasures'] button")
        .await;
    browser.expect_page("Erasure request").await;
    browser.close().await;
}
